"""The point answer residents act on (issue 27): data decides, buildings answer about buildings,
each scenario has its own advice and a site designated for it."""

import pytest
from sqlalchemy import text

from mapsvc.services.here import layer_answer
from mapsvc.services.places import Spot

pytestmark = pytest.mark.db

SUMINOE_STREET = {"lon": 135.47, "lat": 34.61}  # a street deep in the surge and tsunami area
SURGE_BUILDING = {"lon": 135.46142, "lat": 34.60824}  # 高潮 3.0〜5.0m, 津波 under 0.5 m
BUILDING_LAYERS = ("building_flood_depth", "building_tsunami_storm_surge_depth")
DEPTHS = ["flood_planned_rank", "flood_max_rank", "tsunami_rank", "storm_surge_rank"]
# No municipality: only the data itself can make the answer "inside" (one query per building).
NOWHERE = {"municipality": None, "ward": None, "owners": []}


def _hazard(client, spot, layer):
    answer = client.get("/api/point", params=spot).json()
    return answer, next(h for h in answer["hazards"] if h["layer"] == layer)


def _designated(client, site, flag):
    url = f"/api/collections/evacuation_sites/items/{site['id']}"
    return client.get(url).json()["properties"][flag] is True


def test_every_plateau_building_with_a_depth_answers_inside_with_its_depth_and_advice(
    client, session, catalog
):
    # Each building, asked at a point inside its footprint (its centre may fall outside it).
    # Through the service, without the evacuation sites (12,000 HTTP calls would take many
    # minutes); every 500th also over HTTP.
    buildings = session.execute(
        text(
            "SELECT layer_id, properties->>'building_id', ST_X(p), ST_Y(p) FROM (SELECT layer_id, "
            "properties, ST_PointOnSurface(geom) AS p FROM published_feature "
            "WHERE layer_id = ANY(:layers) AND properties ?| :depths) AS b ORDER BY 1, 2"
        ),
        {"layers": list(BUILDING_LAYERS), "depths": DEPTHS},
    ).all()
    assert len(buildings) > 12000
    wrong = []
    for i, (layer_id, building, x, y) in enumerate(buildings):
        spot = Spot(x, y)
        answer = layer_answer(session, catalog[layer_id], place=NOWHERE, spot=spot)
        advice = [s["advice"] for s in answer.get("scenarios", [])]
        if answer["status"] != "inside" or not answer["details"] or not all(advice) or not advice:
            wrong.append((building, answer["status"], answer.get("details")))
        elif i % 500 == 0:
            _, over_http = _hazard(client, {"lon": x, "lat": y}, layer_id)
            assert over_http["details"] == answer["details"]
    assert wrong == []


def test_a_street_between_buildings_is_never_called_outside_the_building_layers(client):
    answer = client.get("/api/point", params=SUMINOE_STREET).json()
    assert answer["ward"]["name"]["ja"] == "大阪市住之江区"
    for layer in BUILDING_LAYERS:
        building = next(h for h in answer["hazards"] if h["layer"] == layer)
        assert building["status"] == "no_building", building
        assert building["summary"]["ja"].endswith(
            "この地点には建物のデータがありません。建物をタップしてください"
        )
        assert "Tap a building" in building["summary"]["en"]
    assert not any("区域外" in h["summary"]["ja"] for h in answer["hazards"])


def test_a_tap_a_few_metres_off_a_building_names_that_buildings_depths(client, session):
    # 2 m south of the building's southernmost corner: off it, and nothing of it is nearer.
    x, y = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Project((SELECT d.geom FROM "
            "ST_DumpPoints(f.geom) AS d ORDER BY ST_Y(d.geom) LIMIT 1)::geography, 2, pi())"
            "::geometry AS p FROM published_feature f "
            "WHERE layer_id = 'building_tsunami_storm_surge_depth' "
            "AND properties->>'building_id' = '27100-bldg-119017') AS b"
        )
    ).one()
    _, sea = _hazard(client, {"lon": x, "lat": y}, "building_tsunami_storm_surge_depth")
    assert sea["status"] == "no_building"
    near = sea["nearest_building"]
    assert 0 < near["distance_m"] <= 5
    assert "高潮 3.0〜5.0m（3.68m）" in near["summary"]["ja"]


def test_storm_surge_gets_its_own_advice_first_with_the_exact_depth(client):
    _, sea = _hazard(client, SURGE_BUILDING, "building_tsunami_storm_surge_depth")
    assert sea["status"] == "inside"
    assert [d["text"]["ja"] for d in sea["details"]] == ["0.5m未満（0.13m）", "3.0〜5.0m（3.68m）"]
    surge, tsunami = sea["scenarios"]  # the worst first
    assert surge["hazard"]["ja"] == "高潮" and tsunami["hazard"]["ja"] == "津波"
    assert surge["class"]["ja"] == "3.0〜5.0m" and surge["depth_m"] == 3.68
    assert "before the typhoon arrives" in surge["advice"]["en"]
    assert "広域避難" in surge["advice"]["ja"]
    assert "避難情報に関するガイドライン" in surge["advice"]["source"]["ja"]
    assert tsunami["advice"]["en"].startswith("Tsunami risk") and tsunami["depth_m"] == 0.13


def test_each_scenario_offers_a_site_designated_for_it_or_says_there_is_none_here(client):
    answer, sea = _hazard(client, SURGE_BUILDING, "building_tsunami_storm_surge_depth")
    assert answer["municipality"]["name"]["ja"] == "大阪市"
    surge, tsunami = (s["evacuation"] for s in sea["scenarios"])
    # Osaka City designates no site for storm surges: said plainly, then the nearest elsewhere.
    assert surge["designated_here"] is False and _designated(client, surge["site"], "storm_surge")
    assert surge["site"]["name"] == "三宝小学校"
    assert surge["site"]["municipality"]["name"]["ja"] == "堺市"
    assert 1500 < surge["site"]["distance_m"] < 2500
    assert surge["note"]["ja"] == (
        "大阪市は高潮の指定緊急避難場所を指定していません。最寄りの高潮の指定緊急避難場所は"
        "堺市の三宝小学校（1.9 km）です。大阪市のハザードマップで避難先を確認してください"
    )
    assert "designates no evacuation site for storm surge" in surge["note"]["en"]
    assert tsunami["designated_here"] is True and "note" not in tsunami
    assert _designated(client, tsunami["site"], "tsunami")
