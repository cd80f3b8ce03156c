"""The demo data set: exact counts, real positions and names, one version per layer × municipality."""

import json

import pytest
from sqlalchemy import text

from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.demo import load_demo
from tests.support.paths import DEMO

pytestmark = pytest.mark.db

COUNTS = {"evacuation_sites": 5455, "shelters": 2975, "schools": 3412, "public_facilities": 2185}


def _published(session) -> dict[str, int]:
    rows = session.execute(text("SELECT layer_id, count(*) FROM published_feature GROUP BY 1"))
    return dict(rows.tuples().all())


# Files filed under one municipality, loaded by the upload use case: (published, rows the row
# filter kept, rows it left out). Kept rows are the MANIFEST's category counts; the missing ones
# are real facilities the city runs in other municipalities (row errors in the report).
UPLOADED = {
    "parks": (1141, 1032 + 109, 126),  # 公園 + 児童遊園・広場; 体育施設 left out
    "childcare_facilities": (911, 802 + 109, 462),  # 保育所 + 幼稚園
    "public_toilets": (321, 321, 0),
    "medical_institutions": (127, 128, 703),  # 弘済院附属病院 stands in 吹田市
    "care_facilities": (700, 519 + 112 + 72, 128),  # homes in 羽曳野市, 柏原市, 吹田市: 5 km+ out
    "tourism_facilities": (848, 371 + 190 + 251 + 36, 9475 - 848),
    "bus_stops": (2157, 2157, 9475 - 2157),
    "railway_stations": (246, 246, 9475 - 246),
    "building_flood_depth": (3183, 3183, 0),  # PLATEAU, per building
    "building_tsunami_storm_surge_depth": (9161, 9161, 0),
}
AED = {"271004": 197, "272141": 77, "272086": 41}


def test_every_demo_feature_is_published_with_the_exact_counts(session, demo):
    expected = COUNTS | {layer: counts[0] for layer, counts in UPLOADED.items()}
    expected["aed"] = sum(AED.values())
    assert demo.by_layer == expected
    assert {k: v for k, v in _published(session).items() if k in expected} == expected


def _report(session, layer: str, code: str = "271004") -> dict:
    return session.execute(
        text(
            "SELECT v.report FROM dataset d JOIN version v ON v.id = d.current_version_id "
            "WHERE d.layer_id = :layer AND d.municipality_code = :code"
        ),
        {"layer": layer, "code": code},
    ).scalar_one()


@pytest.mark.parametrize("layer", sorted(UPLOADED))
def test_one_file_feeds_several_layers_through_the_uploads_row_filter(session, layer):
    published, kept, left_out = UPLOADED[layer]
    report = _report(session, layer)
    assert (report["rows"], report["left_out"]) == (kept, left_out)
    assert report["accepted"] == published and len(report["errors"]) == kept - published
    assert all(e["code"] == "outside_municipality" for e in report["errors"])


def test_real_osaka_city_names_readings_and_positions(session):
    def one(layer: str, name: str):
        return session.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom), properties FROM published_feature "
                "WHERE layer_id = :layer AND properties->>'name' = :name"
            ),
            {"layer": layer, "name": name},
        ).one()

    x, y, park = one("parks", "大阪城公園")
    assert (x, y) == pytest.approx((135.5260371, 34.6872376900003)) and park["kind"] == "歴史公園"
    # The city lists the keep twice (美術館・博物館 and 都市景観資源, 20 m apart): both are shown.
    castle = session.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom), properties FROM published_feature "
            "WHERE layer_id = 'tourism_facilities' AND properties->>'name' = '大阪城天守閣' "
            "ORDER BY (properties->>'source_id')::int"
        )
    ).all()
    assert [c[2]["source_id"] for c in castle] == ["712", "13055"]
    x, y, castle = castle[0]
    assert castle["name_kana"] == "おおさかじょうてんしゅかく" and (x, y) == pytest.approx(
        (135.5258221, 34.68744706)
    )
    assert (
        one("railway_stations", "地下鉄谷町線阿倍野駅")[2]["name_kana"]
        == "ちかてつたにまちせんあべのえき"
    )


def test_aeds_of_three_municipalities_in_three_shapes(session):
    counts = dict(
        session.execute(
            text(
                "SELECT municipality_code, count(*) FROM published_feature WHERE layer_id = 'aed' "
                "GROUP BY 1"
            )
        ).all()
    )
    assert counts == AED
    # 大阪市: a title row above the header, positions only inside the map links (ll= and mpx=)
    report = _report(session, "aed")
    assert {w["code"] for w in report["warnings"]} >= {"title_rows_skipped", "positions_from_links"}
    x, y, props = session.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom), properties FROM published_feature "
            "WHERE layer_id = 'aed' AND properties->>'name' = '大阪市中央消防署上町出張所' "
            "AND properties->>'url' LIKE '%mpx=135.5151930715%'"  # three engines, three AEDs
        )
    ).one()
    assert (x, y) == pytest.approx((135.5151930715, 34.671647558954))  # from mpx=/mpy=
    assert props["on_fire_engine"] is True  # 消防車両積載※出動時は使用不可
    engines = session.execute(
        text(
            "SELECT count(*) FROM published_feature WHERE layer_id = 'aed' "
            "AND properties->>'on_fire_engine' = 'true'"
        )
    ).scalar_one()
    assert engines == 103  # every row whose 設置場所 says 消防車両積載
    # 富田林市: a web address without its scheme is kept as a link
    url = session.execute(
        text(
            "SELECT properties->>'url' FROM published_feature WHERE layer_id = 'aed' "
            "AND municipality_code = '272141' AND properties->>'url' LIKE '%tonkira%'"
        )
    ).scalar_one()
    assert url == "http://www.tonkira.jp"


def test_one_dataset_and_version_per_layer_and_municipality(session):
    rows = (
        session.execute(
            text(
                "SELECT d.layer_id, count(DISTINCT d.municipality_code), count(v.id) "
                "FROM dataset d JOIN version v ON v.dataset_id = d.id GROUP BY 1"
            )
        )
        .tuples()
        .all()
    )
    per_layer = {layer: (municipalities, versions) for layer, municipalities, versions in rows}
    for layer in COUNTS:
        assert per_layer[layer] == (43, 43), layer
    for layer in UPLOADED:
        assert per_layer[layer] == (1, 1), layer  # 大阪市 only
    assert per_layer["aed"] == (3, 3)
    owners = (
        session.execute(
            text(
                "SELECT DISTINCT municipality_code FROM dataset WHERE layer_id = 'evacuation_sites'"
            )
        )
        .scalars()
        .all()
    )
    assert "271004" in owners and "271403" in owners  # Osaka City and Sakai City, not their wards
    assert not any(code[2] == "1" and code not in ("271004", "271403") for code in owners)


def test_positions_names_and_flags_match_the_source_files(session):
    source = json.loads((DEMO / "gsi_shelters/emergency/272027.json").read_text("utf-8"))
    first = source["features"][0]
    row = session.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom), properties FROM published_feature "
            "WHERE layer_id = 'evacuation_sites' AND source_id = :id"
        ),
        {"id": first["properties"]["共通ID"]},
    ).one()
    assert (row[0], row[1]) == pytest.approx(tuple(first["geometry"]["coordinates"]), abs=1e-9)
    assert row[2]["name"] == "大芝小学校　（３階廊下）" == first["properties"]["施設・場所名"]
    assert row[2]["tsunami"] is True and row[2]["flood"] is False

    schools = json.loads((DEMO / "ksj/P29-21_27.geojson").read_text("utf-8"))["features"]
    for feature in schools[:: len(schools) // 7]:
        found = session.execute(
            text(
                "SELECT count(*) FROM published_feature WHERE layer_id = 'schools' "
                "AND properties->>'name' = :name AND ST_DWithin(geom, ST_Point(:x, :y, 4326), 1e-7)"
            ),
            {
                "name": feature["properties"]["P29_004"],
                "x": feature["geometry"]["coordinates"][0],
                "y": feature["geometry"]["coordinates"][1],
            },
        ).scalar_one()
        assert found >= 1, feature["properties"]


def test_welfare_shelters_are_derived_from_the_common_id(session):
    expected = sum(
        f["properties"]["共通ID"][12] == "2"
        for path in (DEMO / "gsi_shelters/evacuation").glob("*.json")
        for f in json.loads(path.read_text("utf-8"))["features"]
    )
    found = session.execute(
        text(
            "SELECT count(*) FROM published_feature WHERE layer_id = 'shelters' "
            "AND (properties->>'is_welfare')::boolean"
        )
    ).scalar_one()
    assert found == expected > 0


def test_points_lie_in_or_near_the_municipality_they_are_filed_under(session):
    # With the exact boundaries the sites of the bay's landfills lie inside Osaka City (the
    # simplified ones put 65 of them 1.0-2.4 km "outside"); the farthest real site outside its
    # municipality is one of 摂津市's, 1.08 km. A mis-filed dataset would put points tens of
    # kilometres away.
    distances = dict(
        session.execute(
            text(
                "SELECT f.municipality_code, max(CASE WHEN ST_Covers(m.boundary, f.geom) THEN 0 "
                "ELSE ST_Distance(f.geom::geography, m.boundary::geography) END) "
                "FROM published_feature f JOIN municipality m "
                "ON m.code = f.municipality_code WHERE f.layer_id IN "
                "('evacuation_sites', 'shelters', 'schools', 'public_facilities') GROUP BY 1"
            )
        )
        .tuples()
        .all()
    )
    assert len(distances) == 43
    assert max(distances.values()) < 1100
    assert distances["271004"] < 100


def test_a_second_load_loads_nothing(engine, catalog, test_settings, session):
    before = session.execute(text("SELECT count(*) FROM version")).scalar_one()
    again = load_demo(
        make_sessionmaker(engine), catalog, test_settings.demo_manifest, test_settings
    )
    assert again.files_loaded == 0
    assert again.files_skipped == 88 + len(UPLOADED) + len(AED)  # GSI and KSJ files, then uploads
    assert session.execute(text("SELECT count(*) FROM version")).scalar_one() == before


def test_municipalities_and_wards_are_seeded_with_names_and_boundaries(session):
    kinds = dict(
        session.execute(text("SELECT kind, count(*) FROM municipality GROUP BY 1")).tuples().all()
    )
    assert kinds == {
        "prefecture": 1,
        "designated_city": 2,
        "city": 31,
        "town": 9,
        "village": 1,
        "ward": 31,
    }
    kishiwada = session.execute(
        text("SELECT name_ja, name_en, parent_code FROM municipality WHERE code = '272027'")
    ).one()
    assert tuple(kishiwada) == ("岸和田市", "Kishiwada-shi", "270008")
    kita = session.execute(
        text("SELECT name_en, parent_code FROM municipality WHERE code = '271276'")
    ).one()
    assert tuple(kita) == ("Osaka-shi Kita-ku", "271004")
    missing = session.execute(text("SELECT count(*) FROM municipality WHERE boundary IS NULL"))
    assert missing.scalar_one() == 0
    # The prefecture's outline covers Kishiwada's city hall.
    inside = session.execute(
        text(
            "SELECT ST_Covers(boundary, ST_Point(135.3716, 34.4603, 4326)) FROM municipality "
            "WHERE code = '270008'"
        )
    ).scalar_one()
    assert inside


def test_boundaries_are_a_layer_owned_by_the_prefecture(session):
    rows = (
        session.execute(
            text(
                "SELECT municipality_code, count(*) FROM published_feature "
                "WHERE layer_id = 'municipal_boundaries' GROUP BY 1"
            )
        )
        .tuples()
        .all()
    )
    assert rows == [("270008", 43 + 31)]


def test_plateau_depths_per_building_are_flattened_into_classes(session):
    def building(layer: str, building_id: str) -> dict:
        return session.execute(
            text(
                "SELECT properties FROM published_feature WHERE layer_id = :layer "
                "AND properties->>'building_id' = :id"
            ),
            {"layer": layer, "id": building_id},
        ).scalar_one()

    # river: [{rank 1, 0.389 m, scale 1}, {rank 2, 0.94 m, scale 2, 4.9667 hour}]
    flood = building("building_flood_depth", "27100-bldg-27086")
    assert (flood["flood_planned_rank"], flood["flood_planned_depth_m"]) == ("1", 0.39)
    assert (flood["flood_max_rank"], flood["flood_max_depth_m"]) == ("2", 0.94)
    assert flood["flood_duration_h"] == 5.0 and "river" not in flood
    # tsunami: [{rank 1, 0.13 m}], hightide: [{rank 3, 3.68 m}]
    sea = building("building_tsunami_storm_surge_depth", "27100-bldg-119017")
    assert (sea["tsunami_rank"], sea["storm_surge_rank"], sea["worst_rank"]) == ("1", "3", "3")
    assert sea["storm_surge_depth_m"] == 3.68
