"""Search by name or address (width-insensitive) and jumping to a municipality or ward."""

import pytest

from mapsvc.db.search import fold

pytestmark = pytest.mark.db


def search(client, q: str, **params):
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_full_and_half_width_find_the_same_facilities(client):
    half = search(client, "ﾃﾞｲｻｰﾋﾞｽ")  # half-width katakana; the data is written full-width
    full = search(client, "デイサービス")
    assert half["features"] and half["features"] == full["features"]
    # デイ and ディ are written interchangeably: small kana fold to full-size ones.
    assert all(fold("デイサービス") in fold(f["name"]) for f in half["features"])
    digits = search(client, "１５", limit=50)  # full-width digits find addresses with 15
    assert any("15" in (f["address"] or "") for f in digits["features"])


def test_places_come_with_a_box_to_jump_to(client):
    body = search(client, "kita")  # English names too
    names = {p["name"]["ja"]: p for p in body["places"]}
    assert {"大阪市北区", "堺市北区"} <= set(names)
    west, south, east, north = names["大阪市北区"]["bbox"]
    assert 135.45 < west < east < 135.55 and 34.68 < south < north < 34.73
    assert names["大阪市北区"]["kind"] == "ward"


def test_names_that_start_with_the_text_come_first(client):
    features = search(client, "大阪")["features"]
    starts = [f["name"].startswith("大阪") for f in features]
    assert starts[0] and starts == sorted(starts, reverse=True)
    hit = features[0]
    item = client.get(f"/api/collections/{hit['layer']}/items/{hit['id']}")
    assert item.status_code == 200 and item.json()["properties"]["name"] == hit["name"]


@pytest.mark.parametrize("q", ["%", "_", "\\"])
def test_like_wildcards_are_literal(client, q):
    assert search(client, q)["features"] == []


@pytest.mark.parametrize(
    "params", [{"q": " "}, {"q": ""}, {"q": "x" * 101}, {"q": "a", "limit": 0}, {"q": "a", "x": 1}]
)
def test_bad_searches_get_a_400_in_both_languages(client, params):
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert response.json()["message_ja"] and response.json()["message_en"]


def test_layers_say_when_they_were_last_updated(client):
    layers = {c["id"]: c for c in client.get("/api/layers").json()["layers"]}
    assert layers["evacuation_sites"]["updated"].startswith("20")
    assert layers["bus_routes"]["updated"] is None and layers["bus_routes"]["numberPublished"] == 0


def test_hiragana_katakana_small_kana_and_readings_find_the_same_facilities(client, keys):
    """What people type: ひらがな for カタカナ, ゃ for ャ or ヤ, and a name's reading (ふりがな)."""
    from tests.support import variants as v
    from tests.support.staging import upload

    header = ["名称", "名称_カナ", "緯度", "経度"]
    rows = [
        ["ウメダキッズプラザ", "", "34.4571", "135.3745"],
        ["岸和田市民体育館", "キシワダシミンタイイクカン", "34.4602", "135.3716"],
    ]
    response = upload(client, keys["kishiwada"], data=v.to_csv(header, rows), publish=True)
    assert response.status_code == 201, response.text
    for typed in ("うめだきっず", "ウメダキッズ", "ｳﾒﾀﾞｷｯｽﾞ", "うめだきつず"):
        assert [f["name"] for f in search(client, typed)["features"]] == ["ウメダキッズプラザ"], (
            typed
        )
    by_reading = search(client, "しみんたいいく")["features"]
    assert [f["name"] for f in by_reading] == ["岸和田市民体育館"]


def test_search_folds_in_python_exactly_as_in_sql(session):
    from sqlalchemy import select

    from mapsvc.db.search import FOLD_FROM, _folded

    samples = [FOLD_FROM, "ＡＥＤ１", "ｵｵｻｶ", "ﾃﾞｲｻｰﾋﾞｽ", "きっずぷらざ", "Ｋｉｔａ-ku"]
    for text in samples:
        assert session.execute(select(_folded(text))).scalar_one() == fold(text), text


def test_the_migrations_frozen_fold_is_the_services_and_the_index_serves_japanese(session):
    import importlib.util

    from sqlalchemy import text

    from mapsvc.db.search import FOLD_FROM, search_text
    from tests.support.paths import PROJECT

    path = PROJECT / "mapsvc/db/migrations/versions/0006_search_index.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for sample in (FOLD_FROM, "ＡＥＤ１", "ｷｯｽﾞ", "梅田", None):
        properties = {"name": sample, "name_kana": "しみん", "address": "大阪市北区梅田１－１"}
        assert migration.search_text(properties) == search_text(properties), sample
    # The databases the service creates classify characters as UTF-8: trigrams of Japanese exist.
    assert session.execute(text("SELECT show_trgm('梅田小学校')")).scalar_one()
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        session.execute(
            text("EXPLAIN SELECT id FROM published_feature WHERE search_text LIKE '%ウメダショウ%'")
        ).scalars()
    )
    assert "ix_feature_search" in plan, plan


@pytest.mark.parametrize(
    "q",
    [
        "大阪市住之江区北加賀屋2-11-8",
        "大阪府大阪市住之江区北加賀屋２丁目１１番８号",
        "住之江区北加賀屋二丁目11-8",
        "北加賀屋2丁目",
    ],
)
def test_an_address_is_placed_at_its_town_however_it_is_written(client, q):
    address = search(client, q)["address"]
    assert address["status"] == "found" and address["approximate"] is True
    [town] = address["towns"]
    assert (town["city"], town["name"]) == ("大阪市住之江区", "北加賀屋二丁目")
    # The town table's representative point, which /api/point answers about.
    assert (town["lon"], town["lat"]) == (135.478377, 34.622728)
    here = client.get("/api/point", params={"lon": town["lon"], "lat": town["lat"]}).json()
    assert here["municipality"]["name"]["ja"] == "大阪市"


def test_a_town_without_prefecture_or_city_is_found_too(client):
    [town] = search(client, "新北島8丁目")["address"]["towns"]
    assert (town["city"], town["name"]) == ("大阪市住之江区", "新北島八丁目")


def test_an_ambiguous_address_lists_the_candidate_towns(client):
    address = search(client, "本町1丁目")["address"]
    assert address["status"] == "ambiguous"
    cities = {t["city"] for t in address["towns"] if t["name"] == "本町一丁目"}
    assert {"大阪市中央区", "豊中市", "八尾市"} <= cities
    # A town named without its chōme: each chōme is a candidate.
    chome = search(client, "北加賀屋")["address"]
    assert chome["status"] == "ambiguous"
    assert [t["name"] for t in chome["towns"]][:2] == ["北加賀屋一丁目", "北加賀屋二丁目"]


def test_an_address_that_matches_no_town_says_so_and_suggests_a_spelling(client):
    address = search(client, "北加賀谷2-11-8")["address"]  # 屋 mistyped as 谷
    assert address["status"] == "not_found" and address["towns"] == []
    assert any(s.startswith("北加賀屋") for s in address["suggestions"])
