"""The shelter-status API: writes with If-Match (412/428), scopes, modes, the collection, CSV."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from mapsvc.services import emergencies
from tests.conftest import bearer
from tests.support.sites import KISHIWADA, OSHIBA, Site, publish_sites, site_position

pytestmark = pytest.mark.db

ITEMS = "/api/collections/shelter_status/items"
OSHIBA_ITEM = f"{ITEMS}/evacuation_sites:{KISHIWADA}-{OSHIBA}"


def _patch(client, key, body, etag=None, url=OSHIBA_ITEM, **headers):
    if etag is not None:
        headers["If-Match"] = etag
    return client.patch(url, json=body, headers=bearer(key) | headers)


def _open(client, keys, **fields):
    etag = client.get(OSHIBA_ITEM).headers["ETag"]
    changed = _patch(client, keys["kishiwada"], {"status": "open"} | fields, etag)
    assert changed.status_code == 200, changed.text
    return changed


def test_a_change_needs_if_match_with_the_current_strong_etag(client, keys):
    read = client.get(OSHIBA_ITEM)
    assert read.status_code == 200
    etag = read.headers["ETag"]
    assert etag == f'"evacuation_sites:{KISHIWADA}-{OSHIBA}:real:0"'
    assert read.json()["properties"]["status"] is None  # nothing recorded: nothing claimed
    assert read.json()["properties"]["statusLabel"] == {"ja": "未発表", "en": "Not published"}

    missing = _patch(client, keys["kishiwada"], {"status": "open"})
    assert missing.status_code == 428
    assert missing.json()["message_ja"] and missing.json()["message_en"]

    changed = _patch(client, keys["kishiwada"], {"status": "open", "evacuees": 5}, etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] == f'"evacuation_sites:{KISHIWADA}-{OSHIBA}:real:1"'
    assert changed.json()["properties"]["status"] == "open"

    stale = _patch(client, keys["kishiwada"], {"status": "closed"}, etag)
    assert stale.status_code == 412
    assert stale.headers["ETag"] == changed.headers["ETag"]
    assert stale.json()["message_ja"] and stale.json()["message_en"]
    weak = _patch(client, keys["kishiwada"], {"status": "closed"}, "W/" + changed.headers["ETag"])
    assert weak.status_code == 412
    assert client.get(OSHIBA_ITEM).json()["properties"]["status"] == "open"


def test_put_replaces_and_accepts_what_it_read(client, keys):
    changed = _open(client, keys, evacuees=40, accepting=False)
    read = client.get(OSHIBA_ITEM).json()
    read["geometry"] = None
    read["properties"] |= {"status": "open", "evacuees": None}
    del read["properties"]["accepting"]
    replaced = client.put(
        OSHIBA_ITEM,
        json=read,
        headers=bearer(keys["kishiwada"]) | {"If-Match": changed.headers["ETag"]},
    )
    assert replaced.status_code == 200, replaced.text
    properties = replaced.json()["properties"]
    assert (properties["evacuees"], properties["accepting"]) == (None, True)


def test_merge_patch_media_type_and_a_retry_with_the_same_idempotency_key(client, keys):
    etag = client.get(OSHIBA_ITEM).headers["ETag"]
    change = {"If-Match": etag, "Idempotency-Key": str(uuid.uuid4())}
    change |= {"Content-Type": "application/merge-patch+json"}
    first = client.patch(
        OSHIBA_ITEM, content=b'{"status": "open"}', headers=bearer(keys["kishiwada"]) | change
    )
    again = client.patch(
        OSHIBA_ITEM, content=b'{"status": "open"}', headers=bearer(keys["kishiwada"]) | change
    )
    assert first.status_code == again.status_code == 200, again.text
    assert first.headers["ETag"] == again.headers["ETag"]
    assert client.get(OSHIBA_ITEM).headers["ETag"].endswith(':1"')


@pytest.mark.parametrize(
    ("key", "item", "expected"),
    [
        ("sakai", OSHIBA_ITEM, 403),  # another municipality's site
        ("kishiwada_editor", OSHIBA_ITEM, 403),  # uploads, has no status right
        ("kishiwada", f"{ITEMS}/evacuation_sites:{KISHIWADA}-E0000000000000", 404),
        ("kishiwada", f"{ITEMS}/aed:{KISHIWADA}-1", 404),
        ("admin", f"{ITEMS}/evacuation_sites:271403-E0000000000000", 404),
    ],
)
def test_scopes(client, keys, key, item, expected):
    refused = _patch(client, keys[key], {"status": "open"}, '"x"', url=item)
    assert refused.status_code == expected
    assert refused.json()["message_ja"] and refused.json()["message_en"]


def test_no_key_no_change(client):
    assert client.patch(OSHIBA_ITEM, json={"status": "open"}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"status": "opened"},
        {"evacuees": -3},
        {"unknown": 1},
        [1, 2],
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}},
    ],
)
def test_a_wrong_body_is_a_bilingual_400(client, keys, body):
    etag = client.get(OSHIBA_ITEM).headers["ETag"]
    refused = _patch(client, keys["kishiwada"], body, etag)
    assert refused.status_code in (400, 422), refused.text
    assert refused.json()["message_ja"] and refused.json()["message_en"]


def test_the_sites_items_carry_the_status_and_their_etag_moves_with_it(client, keys):
    url = f"/api/collections/evacuation_sites/items/{KISHIWADA}-{OSHIBA}"
    before = client.get(url)
    assert "status" not in before.json()["properties"]  # nothing published: nothing claimed
    _open(client, keys, evacuees=10, capacity=100)
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    properties = after.json()["properties"]
    assert {k: properties[k] for k in ("status", "crowding", "evacuees", "capacity", "mode")} == {
        "status": "open",
        "crowding": "vacant",
        "evacuees": 10,
        "capacity": 100,
        "mode": "real",
    }
    assert properties["statusUpdated"]
    page = client.get(
        "/api/collections/evacuation_sites/items", params={"municipality": KISHIWADA, "limit": 1000}
    ).json()
    opened = [f for f in page["features"] if f["properties"].get("status") == "open"]
    assert [f["id"] for f in opened] == [f"{KISHIWADA}-{OSHIBA}"]


def test_drill_and_test_are_never_shown_as_real(client, keys):
    etag = client.get(OSHIBA_ITEM, params={"mode": "drill"}).headers["ETag"]
    drill = client.patch(
        OSHIBA_ITEM,
        params={"mode": "drill"},
        json={"status": "open"},
        headers=bearer(keys["kishiwada"]) | {"If-Match": etag},
    )
    assert drill.status_code == 200, drill.text
    assert drill.json()["properties"]["mode"] == "drill"
    site = f"/api/collections/evacuation_sites/items/{KISHIWADA}-{OSHIBA}"
    assert "status" not in client.get(site).json()["properties"]
    assert client.get(site, params={"mode": "drill"}).json()["properties"]["mode"] == "drill"
    real = client.get(ITEMS, params={"municipality": KISHIWADA, "limit": 1000}).json()
    assert {f["properties"]["status"] for f in real["features"]} == {None}
    drill_items = client.get(
        ITEMS, params={"mode": "drill", "municipality": KISHIWADA, "limit": 1000}
    ).json()["features"]
    marked = [f for f in drill_items if f["properties"]["status"] is not None]
    assert [(f["properties"]["mode"], f["properties"]["site"]) for f in marked] == [
        ("drill", OSHIBA)
    ]
    assert client.get(OSHIBA_ITEM).json()["properties"]["status"] is None
    assert client.get("/api/emergencies").json() == {"emergencies": []}


def test_the_collection_reads_the_timeline_with_datetime(client, keys, session):
    opened = _open(client, keys)
    opened_at = opened.json()["properties"]["statusUpdated"]
    closed = _patch(client, keys["kishiwada"], {"status": "closed"}, opened.headers["ETag"])
    assert closed.status_code == 200
    # Both changes share the transaction's clock in this rolled-back test session, so read
    # the timeline at instants before and after them.
    mine = {"municipality": KISHIWADA, "limit": 1000}
    then = client.get(ITEMS, params=mine | {"datetime": "2000-01-01T00:00:00Z"}).json()
    assert {f["properties"]["status"] for f in then["features"]} == {None}
    now = [
        f for f in client.get(ITEMS, params=mine).json()["features"] if f["properties"]["status"]
    ]
    assert [f["properties"]["status"] for f in now] == ["closed"]
    assert now[0]["geometry"]["type"] == "Point"
    assert now[0]["properties"]["name"].startswith("大芝小学校")
    since = client.get(ITEMS, params={"datetime": f"{opened_at.replace('+00:00', 'Z')}/.."})
    assert [f["id"] for f in since.json()["features"]] == [f"evacuation_sites:{KISHIWADA}-{OSHIBA}"]
    later = client.get(ITEMS, params={"datetime": "2999-01-01T00:00:00Z/.."}).json()
    assert later["features"] == []
    refused = client.get(ITEMS, params={"datetime": "yesterday"})
    assert refused.status_code == 400 and refused.json()["message_ja"]


def test_the_collection_is_listed_and_its_etag_moves_with_a_change(client, keys):
    collections = {c["id"] for c in client.get("/api/collections").json()["collections"]}
    assert "shelter_status" in collections
    before = client.get(ITEMS)
    assert before.headers["Cache-Control"].startswith("public, max-age=0")
    assert client.get(ITEMS, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    _open(client, keys)
    assert client.get(ITEMS, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    conformance = client.get("/api/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags" in (
        conformance
    )


def test_the_eei_csv_has_eei_columns_in_order(client, keys):
    _open(client, keys, evacuees=3)
    answer = client.get("/api/shelter-status.csv", params={"municipality": KISHIWADA})
    assert answer.status_code == 200 and answer.headers["ETag"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:7] == [
        "全国共通ID",
        "地方公共団体コード",
        "開設状況",
        "避難者数",
        "開設日時",
        "閉鎖日時",
        "定員状況",
    ]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[OSHIBA][1:4] == [KISHIWADA, "開設", "3"]
    assert by_id["E2720200003202"][2] == ""  # nothing published for it: no status claimed
    assert {row[1] for row in rows[1:]} == {KISHIWADA}


def test_emergencies_for_the_banner(client, session):
    emergencies.start(session, "staff:x", KISHIWADA, "storm_surge", 4, "高潮", "Surge", mode="real")
    emergencies.start(session, "staff:x", "272035", "flood", 3, "訓練", "Drill", mode="drill")
    found = client.get("/api/emergencies", params={"bbox": "135.36,34.44,135.40,34.47"}).json()
    assert [(e["municipality"], e["alertLevel"]) for e in found["emergencies"]] == [(KISHIWADA, 4)]
    drill = client.get("/api/emergencies", params={"mode": "drill"}).json()["emergencies"]
    assert [e["mode"] for e in drill] == ["drill"]
    assert client.get("/api/emergencies", params={"bbox": "x"}).status_code == 400


def test_a_file_re_upload_that_moves_a_site_keeps_its_status(client, keys, session, test_settings):
    site = Site("E2720299999001", "テスト避難所", 135.37, 34.46, capacity=200)
    publish_sites(session, test_settings, [site])
    item = f"{ITEMS}/evacuation_sites:{KISHIWADA}-{site.common_id}"
    etag = client.get(item).headers["ETag"]
    assert (
        _patch(
            client, keys["kishiwada"], {"status": "open", "evacuees": 150}, etag, url=item
        ).status_code
        == 200
    )

    moved = Site(site.common_id, "テスト避難所（移転）", 135.375, 34.465, capacity=200)
    publish_sites(session, test_settings, [moved])

    assert site_position(session, KISHIWADA, site.common_id) == (135.375, 34.465)
    kept = client.get(item).json()
    assert kept["geometry"]["coordinates"] == [135.375, 34.465]
    assert (kept["properties"]["status"], kept["properties"]["evacuees"]) == ("open", 150)
    assert kept["properties"]["crowding"] == "crowded"


def test_items_link_to_their_collection_and_to_the_site(client):
    page = client.get(ITEMS, params={"municipality": KISHIWADA, "limit": 2}).json()
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert {"self", "collection", "next"} <= set(rels)
    links = {link["rel"]: link["href"] for link in page["features"][0]["links"]}
    site = client.get(links["related"].removeprefix("http://testserver"))
    assert (
        site.status_code == 200
        and site.json()["id"]
        == page["features"][0]["properties"]["municipality"]
        + "-"
        + page["features"][0]["properties"]["site"]
    )
    one = client.get(links["self"].removeprefix("http://testserver")).json()
    assert {link["rel"] for link in one["links"]} == {"self", "collection"}


def test_a_note_with_a_lone_surrogate_is_refused_and_changes_nothing(client, keys):
    # JSON may spell a lone surrogate (\ud800) that no UTF-8 column can hold: 400, not 500.
    etag = client.get(OSHIBA_ITEM).headers["ETag"]
    refused = client.patch(
        OSHIBA_ITEM,
        content=b'{"status": "open", "note": "\\ud800"}',
        headers=bearer(keys["kishiwada"]) | {"If-Match": etag, "Content-Type": "application/json"},
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["message_ja"] and refused.json()["message_en"]
    assert client.get(OSHIBA_ITEM).headers["ETag"] == etag


def test_an_idempotency_key_reused_for_other_content_is_refused_not_replayed(client, keys):
    # Replaying the first answer would tell the client its "closed" was recorded: it was not.
    key = {"Idempotency-Key": str(uuid.uuid4())}
    etag = _open(client, keys).headers["ETag"]
    first = _patch(client, keys["kishiwada"], {"evacuees": 40}, etag, **key)
    assert first.status_code == 200, first.text
    again = _patch(client, keys["kishiwada"], {"evacuees": 40}, etag, **key)
    assert again.status_code == 200 and again.headers["ETag"] == first.headers["ETag"]
    other = _patch(client, keys["kishiwada"], {"status": "closed"}, first.headers["ETag"], **key)
    assert other.status_code == 409, other.text
    assert other.json()["message_ja"] and other.json()["message_en"]
    now = client.get(OSHIBA_ITEM)
    assert now.headers["ETag"] == first.headers["ETag"]
    assert now.json()["properties"]["status"] == "open"
