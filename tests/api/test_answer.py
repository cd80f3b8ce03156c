"""The answer any chat service can send (issue 28 items 2, 3 and 5): the hazard's own advice
with its source, "no data" never called safe, only sites reported open for real, and the same
answer as a LINE Flex Message."""

import pytest
from sqlalchemy import text

from mapsvc.api.caching import STATUS_CACHE_CONTROL
from mapsvc.services import emergencies, shelter_status

pytestmark = pytest.mark.db

SURGE_BUILDING = {"lon": 135.46142, "lat": 34.60824}  # 高潮 3.0〜5.0m, 津波 under 0.5 m
KISHIWADA_CITY_HALL = {"lon": 135.3716, "lat": 34.4603}  # no hazard data published there


def _answer(client, spot, **params):
    response = client.get("/api/answer", params=spot | params)
    assert response.status_code == 200, response.text
    return response.json()


def _sites_near(session, spot, flag, count, *, designated=True):
    """The ``count`` nearest evacuation sites designated (or not) for ``flag``: (code, key, name)."""
    return session.execute(
        text(
            "SELECT municipality_code, feature_key, properties->>'name' FROM published_feature "
            "WHERE layer_id = 'evacuation_sites' "
            "AND coalesce((properties->>:flag)::boolean, false) = :designated "
            "ORDER BY geom::geography <-> ST_Point(:lon, :lat, 4326)::geography LIMIT :count"
        ),
        spot | {"flag": flag, "count": count, "designated": designated},
    ).all()


def _set(session, catalog, site, status, *, mode="real"):
    code, key, _ = site
    fields = {"status": status}
    shelter_status.change(
        session, catalog, "test", "evacuation_sites", code, key, fields, mode=mode
    )


def test_storm_surge_gets_storm_surge_advice_with_its_source_never_the_tsunami_one(client):
    answer = _answer(client, SURGE_BUILDING, hazard="storm_surge")
    applies = answer["applies"]
    assert applies["status"] == "inside"
    assert applies["text"]["ja"] == "高潮 3.0〜5.0m（3.68m）のおそれがあります"
    assert "津波" not in applies["text"]["ja"] and "津波" not in applies["advice"]["text"]["ja"]
    assert "広域避難" in applies["advice"]["text"]["ja"]
    assert "避難情報に関するガイドライン" in applies["advice"]["source"]["ja"]
    ja = answer["lines"]["ja"]
    assert 1 <= len(ja) <= 5 and len(answer["lines"]["en"]) == len(ja)
    assert ja[0].startswith("大阪市住之江区：高潮 3.0〜5.0m")
    assert "（出典：内閣府「避難情報に関するガイドライン」" in ja[1]
    assert answer["text"] == "\n".join(ja)
    # The site is one designated for storm surges (Osaka City designates none: Sakai's).
    assert answer["site"]["name"] == "三宝小学校"
    assert answer["site"]["route"].startswith("https://www.google.com/maps/dir/?api=1&destination=")

    tsunami = _answer(client, SURGE_BUILDING, hazard="tsunami", lang="en")
    assert tsunami["applies"]["advice"]["text"]["en"].startswith("Tsunami risk")
    assert tsunami["text"].startswith("Osaka-shi Suminoe-ku: Risk of Tsunami: Under 0.5 m (0.13 m)")


def test_where_nothing_is_published_the_answer_says_no_data_never_safe(client):
    answer = _answer(client, KISHIWADA_CITY_HALL, hazard="storm_surge")
    assert answer["applies"]["status"] == "no_data"
    assert answer["applies"]["advice"] is None
    assert "安全という意味ではありません" in answer["lines"]["ja"][0]
    assert "does not mean it is safe" in answer["lines"]["en"][0]
    for words in (answer["text"], *answer["lines"]["en"]):
        assert "区域外" not in words and "outside" not in words.lower()


def test_without_any_status_published_no_site_is_called_open(client):
    answer = _answer(client, KISHIWADA_CITY_HALL, hazard="flood")
    assert answer["open_status"] == "not_published"
    assert answer["site"]["status"] is None
    assert answer["site_text"]["ja"].startswith("開設状況は未発表です。")
    assert "開設しているとは限りません" in answer["site_text"]["ja"]
    assert "status not published" in answer["site_text"]["en"]
    assert "開設中の" not in answer["text"]


def test_only_a_site_reported_open_for_real_is_named_open(client, session, catalog):
    nearest, second, third = _sites_near(session, KISHIWADA_CITY_HALL, "flood", 3)
    _set(session, catalog, nearest, "open", mode="drill")  # a drill: never real
    _set(session, catalog, second, "closed")
    _set(session, catalog, third, "open")
    # Open, and nearer than ``third``, but not designated for floods: not an answer for a flood.
    (undesignated,) = _sites_near(session, KISHIWADA_CITY_HALL, "flood", 1, designated=False)
    _set(session, catalog, undesignated, "open")
    answer = _answer(client, KISHIWADA_CITY_HALL, hazard="flood")
    assert answer["open_status"] == "open"
    assert answer["site"]["name"] == third[2]
    assert answer["site"]["status"]["status"] == "open"
    assert answer["site"]["status"]["mode"] == "real"
    assert answer["site_text"]["ja"].startswith(
        f"開設中の最寄りの洪水の避難場所：岸和田市の{third[2]}"
    )

    body = client.get(
        "/api/nearest",
        params=KISHIWADA_CITY_HALL
        | {"layer": "evacuation_sites", "open": "true", "hazard": "flood"},
    ).json()
    assert body["openStatus"] == "open"
    assert [f["properties"]["name"] for f in body["features"]] == [third[2]]
    any_hazard = client.get(
        "/api/nearest",
        params=KISHIWADA_CITY_HALL | {"layer": "evacuation_sites", "open": "true", "limit": 1},
    ).json()
    assert [f["properties"]["name"] for f in any_hazard["features"]] == [undesignated[2]]
    assert body["features"][0]["properties"]["status"] == "open"

    _set(session, catalog, third, "closed")
    closed = _answer(client, KISHIWADA_CITY_HALL, hazard="flood")
    assert closed["open_status"] == "none_open"
    assert closed["site_text"]["ja"].startswith("開設中と発表された洪水の避難場所はありません。")


def test_nearest_open_says_when_no_status_is_published(client):
    body = client.get(
        "/api/nearest",
        params=KISHIWADA_CITY_HALL
        | {"layer": "evacuation_sites", "open": "true", "hazard": "flood"},
    ).json()
    assert body["features"] == [] and body["openStatus"] == "not_published"
    assert body["note"]["ja"].startswith("開設状況は未発表です")


def test_a_status_change_changes_the_answers_etag(client, session, catalog):
    nearest = {"layer": "evacuation_sites", "open": "true", "hazard": "flood"}
    asked = [("/api/answer", {"hazard": "flood"}), ("/api/nearest", nearest)]
    before = [client.get(path, params=KISHIWADA_CITY_HALL | params) for path, params in asked]
    _set(session, catalog, _sites_near(session, KISHIWADA_CITY_HALL, "flood", 1)[0], "open")
    for (path, params), first in zip(asked, before, strict=True):
        again = client.get(
            path,
            params=KISHIWADA_CITY_HALL | params,
            headers={"If-None-Match": first.headers["etag"]},
        )
        assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
        assert again.headers["cache-control"] == STATUS_CACHE_CONTROL
        assert again.json() != first.json()


def test_the_municipalitys_emergency_sets_the_hazard_and_speaks_in_its_words(client, session):
    emergencies.start(
        session,
        "test",
        "272027",
        "flood",
        4,
        "全員避難してください",
        "Everyone evacuate now",
        mode="real",
    )
    emergencies.start(
        session, "test", "272027", "tsunami", 5, "訓練です", "This is a drill", mode="drill"
    )
    answer = _answer(client, KISHIWADA_CITY_HALL)  # no hazard: the emergency's
    assert answer["hazard"]["name"] == "flood"
    assert [e["alertLevel"] for e in answer["emergencies"]] == [4]
    assert "岸和田市（警戒レベル4）：全員避難してください" in answer["lines"]["ja"]
    assert "Kishiwada-shi (alert level 4): Everyone evacuate now" in answer["lines"]["en"]
    assert "訓練" not in answer["text"]
    assert len(answer["lines"]["ja"]) <= 5


def test_the_line_flex_message_carries_the_same_answer(client):
    answer = _answer(client, SURGE_BUILDING, hazard="storm_surge")
    message = client.get(
        "/api/answer", params=SURGE_BUILDING | {"hazard": "storm_surge", "format": "line"}
    ).json()
    assert message["type"] == "flex"
    assert message["altText"] == answer["text"] and len(message["altText"]) <= 1500
    bubble = message["contents"]
    assert bubble["type"] == "bubble"
    assert bubble["header"]["contents"][0]["text"] == "高潮：大阪市住之江区"
    for block in ("header", "body", "footer"):
        assert bubble[block]["type"] == "box" and bubble[block]["layout"] == "vertical"
    texts = [c["text"] for c in bubble["body"]["contents"] if c["type"] == "text"]
    assert texts[0] == answer["applies"]["text"]["ja"]
    assert answer["applies"]["advice"]["text"]["ja"] in texts
    assert answer["site_text"]["ja"] in texts
    assert all(isinstance(t, str) and t for t in texts)
    button = bubble["footer"]["contents"][0]
    assert button["type"] == "button"
    action = button["action"]
    assert action == {"type": "uri", "label": "徒歩の経路を開く", "uri": answer["site"]["route"]}
    assert len(action["uri"]) <= 1000 and len(action["label"]) <= 20


def test_the_text_format_is_the_lines(client):
    response = client.get(
        "/api/answer", params=SURGE_BUILDING | {"hazard": "tsunami", "format": "text", "lang": "en"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["etag"]
    lines = response.text.splitlines()
    assert 1 <= len(lines) <= 5 and lines[0].startswith("Osaka-shi Suminoe-ku: Risk of Tsunami")


@pytest.mark.parametrize(
    "params",
    [
        {"hazard": "volcanoes"},
        {"hazard": "same_as_shelter"},
        {"hazard": "flood", "lang": "fr"},
        {"hazard": "flood", "format": "xml"},
        {"hazard": "flood", "lon": "34.46", "lat": "135.37"},
        {"hazard": "flood", "extra": "1"},
    ],
)
def test_bad_questions_get_a_bilingual_400(client, params):
    response = client.get("/api/answer", params=KISHIWADA_CITY_HALL | params)
    assert response.status_code == 400
    body = response.json()
    assert body["message_ja"] and body["message_en"]


def test_nearest_refuses_a_hazard_the_layer_has_no_flag_for(client):
    response = client.get(
        "/api/nearest",
        params=KISHIWADA_CITY_HALL | {"layer": "schools", "open": "true", "hazard": "flood"},
    )
    assert response.status_code == 400
    assert "hazard" in response.json()["message_en"]
