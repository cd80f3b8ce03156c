"""Nearest features and "what is here" at a point."""

import json

import pytest

from importers import ImportReport, read_geojson, to_features
from mapsvc.services.versions import SourceFile, publish, stage

pytestmark = pytest.mark.db

CITY_HALL = {"lon": 135.3716, "lat": 34.4603}  # Kishiwada city hall


def test_nearest_flood_sites_with_geodesic_distance(client):
    body = client.get(
        "/api/nearest",
        params=CITY_HALL | {"layer": "evacuation_sites", "limit": 5, "flood": "true"},
    ).json()
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert len(distances) == 5 and distances == sorted(distances)
    assert all(f["properties"]["flood"] is True for f in body["features"])
    assert 100 < distances[0] < 400  # 千亀利公園, 156 m by geodesic distance
    assert body["features"][0]["properties"]["name"] == "千亀利公園"


def test_nearest_is_exact_against_a_full_scan(client, session):
    from sqlalchemy import text

    expected = (
        session.execute(
            text(
                "SELECT municipality_code || '-' || feature_key FROM published_feature WHERE layer_id = 'schools' "
                "ORDER BY ST_Distance(geom::geography, ST_Point(:lon, :lat, 4326)::geography) LIMIT 10"
            ),
            CITY_HALL,
        )
        .scalars()
        .all()
    )
    body = client.get("/api/nearest", params=CITY_HALL | {"layer": "schools", "limit": 10}).json()
    assert [f["id"] for f in body["features"]] == expected


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"lon": 34.46, "lat": 135.37, "layer": "schools"}, 400),  # swapped
        ({"lon": 0, "lat": 0, "layer": "schools"}, 400),
        ({"lon": 135.37, "lat": 34.46, "layer": "nope"}, 404),
        ({"lon": 135.37, "lat": 34.46, "layer": "schools", "limit": 500}, 400),
    ],
)
def test_nearest_refuses_bad_questions(client, params, status):
    assert client.get("/api/nearest", params=params).status_code == status


def _publish_flood_zone(session, catalog, owner: str, ring: list[list[float]]) -> None:
    content = json.dumps(
        {
            "type": "Feature",
            "properties": {"A31a_205": "2", "A31a_202": "津田川"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
    ).encode()
    report = ImportReport()
    version, _ = stage(
        session,
        layer_id="flood_hazard",
        municipality_code=owner,
        source=SourceFile(content, "flood.geojson", "geojson"),
        features=to_features(read_geojson(content), catalog["flood_hazard"], report),
        report=report,
        actor="test",
    )
    publish(session, version.id, "test")


def test_point_says_no_data_until_something_is_published(client, session, catalog):
    before = client.get("/api/point", params=CITY_HALL).json()
    assert before["municipality"]["code"] == "272027"
    flood = next(h for h in before["hazards"] if h["layer"] == "flood_hazard")
    assert flood["status"] == "no_data" and "safe" in flood["summary"]["en"]
    _publish_flood_zone(
        session,
        catalog,
        "270008",
        [[135.36, 34.45], [135.38, 34.45], [135.38, 34.47], [135.36, 34.47], [135.36, 34.45]],
    )
    inside = client.get("/api/point", params=CITY_HALL).json()
    flood = next(h for h in inside["hazards"] if h["layer"] == "flood_hazard")
    assert flood["status"] == "inside"
    assert flood["classes"][0]["label"]["en"] == "0.5 to 3 m"
    assert flood["scenarios"][0]["evacuation"]["site"]["name"] == "千亀利公園"
    outside = client.get("/api/point", params={"lon": 135.40, "lat": 34.43}).json()
    assert (
        next(h for h in outside["hazards"] if h["layer"] == "flood_hazard")["status"] == "outside"
    )
    landslide = next(h for h in outside["hazards"] if h["layer"] == "landslide_hazard")
    assert landslide["status"] == "no_data"


def test_point_names_the_ward(client):
    body = client.get("/api/point", params={"lon": 135.4983, "lat": 34.7025}).json()  # Umeda
    assert body["ward"]["code"] == "271276" and body["municipality"]["code"] == "271004"
    assert body["ward"]["name"]["en"] == "Osaka-shi Kita-ku"


def test_a_building_in_suminoe_answers_its_depths_per_scenario_and_where_to_go(client, session):
    from sqlalchemy import text

    x, y = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM "
            "published_feature WHERE layer_id = 'building_flood_depth' "
            "AND properties->>'building_id' = '27100-bldg-119017') AS b"  # in 住之江区
        )
    ).one()
    answer = client.get("/api/point", params={"lon": x, "lat": y}).json()
    flood = next(h for h in answer["hazards"] if h["layer"] == "building_flood_depth")
    assert flood["status"] == "inside"
    assert [(d["attribute"], d["text"]["en"]) for d in flood["details"]] == [
        ("flood_planned_rank", "Under 0.5 m (0.36 m)"),
        ("flood_max_rank", "0.5 to 3 m (0.84 m)"),
        ("flood_duration_h", "36.4 h"),
    ]
    assert flood["summary"]["ja"] == (
        "建物ごとの想定浸水深（洪水）：この建物は計画規模 0.5m未満（0.36m）、想定最大規模 0.5〜3.0m（0.84m）、"
        "浸水継続時間 36.4 時間"
    )
    # The maximum scale's class (0.5 to 3 m) decides what to do, with whose guidance it is.
    assert flood["scenarios"][0]["advice"]["en"].startswith("Water may rise above the ground floor")
    assert (
        "屋内安全確保" in flood["scenarios"][0]["advice"]["ja"]
        and "避難情報に関するガイドライン" in (flood["scenarios"][0]["advice"]["source"]["ja"])
    )
    sea = next(h for h in answer["hazards"] if h["layer"] == "building_tsunami_storm_surge_depth")
    assert sea["status"] == "inside"
    assert [s["hazard"]["en"] for s in sea["scenarios"]] == ["Storm surge", "Tsunami"]
    site = flood["scenarios"][0]["evacuation"]["site"]
    flags = (
        session.execute(
            text(
                "SELECT properties->>'flood' FROM published_feature "
                "WHERE layer_id = 'evacuation_sites' AND properties->>'name' = :name"
            ),
            {"name": site["name"]},
        )
        .scalars()
        .all()
    )
    assert "true" in flags and 0 < site["distance_m"] < 3000  # a site designated for floods


UKITA_FIRE_STATION = {
    "lon": 135.507789,
    "lat": 34.709088,
}  # 北消防署浮田出張所: an AED on its engine
MAY_BE_ABSENT_SQL = (
    "(properties @> '{\"on_fire_engine\": true}' OR properties @> '{\"limited_hours\": true}')"
)


def test_nearest_aeds_that_may_be_absent_come_after_the_ones_always_there(client, session):
    from sqlalchemy import text

    params = UKITA_FIRE_STATION | {"layer": "aed", "limit": 5}
    by_distance = client.get("/api/nearest", params=params | {"order": "distance"}).json()
    own = by_distance["features"][0]
    assert own["properties"]["on_fire_engine"] is True and own["properties"]["distance_m"] < 50
    features = client.get("/api/nearest", params=params).json()["features"]
    absent = [
        bool(f["properties"].get("on_fire_engine") or f["properties"].get("limited_hours"))
        for f in features
    ]
    # The 5 nearest that are always there (exactly the full scan's), then the nearer others.
    expected = (
        session.execute(
            text(
                "SELECT municipality_code || '-' || feature_key FROM published_feature "
                f"WHERE layer_id = 'aed' AND NOT {MAY_BE_ABSENT_SQL} "
                "ORDER BY ST_Distance(geom::geography, ST_Point(:lon, :lat, 4326)::geography) LIMIT 5"
            ),
            UKITA_FIRE_STATION,
        )
        .scalars()
        .all()
    )
    assert [f["id"] for f in features[:5]] == expected and absent[:5] == [False] * 5
    assert absent[5:] == [True] * len(absent[5:]) and 5 < len(features) <= 10
    farthest = features[4]["properties"]["distance_m"]
    later = [f["properties"]["distance_m"] for f in features[5:]]
    assert later == sorted(later) and later[-1] < farthest
    assert features[5]["id"] == own["id"]  # the fire station's own, listed, but after


def test_aeds_in_buildings_open_by_day_are_flagged_from_their_hours(client):
    def aed(name: str) -> dict:
        found = client.get("/api/collections/aed/items", params={"name": name}).json()
        return found["features"][0]["properties"]

    assert aed("貝塚市役所")["limited_hours"] is True  # 月火水木金 08:45–17:15
    assert "limited_hours" not in aed("消防本部")  # 24時間利用可能
    assert (
        client.get(
            "/api/nearest", params=UKITA_FIRE_STATION | {"layer": "aed", "order": "x"}
        ).status_code
        == 400
    )
