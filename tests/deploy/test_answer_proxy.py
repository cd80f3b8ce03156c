"""Nearest-open and the chat answer through the shipped nginx (issue 28 items 2, 4, 5): however
long the cached answer lay unused, the first read after a site opens names it."""

from __future__ import annotations

import time

import httpx
import pytest

from mapsvc.api.caching import STATUS_SHARED_MAX_AGE_S, STATUS_STALE_S
from mapsvc.db.engine import make_sessionmaker
from tests.deploy.test_proxy import serve, upstream_of
from tests.support.proxy import nginx_proxy
from tests.support.sites import KISHIWADA, Site, publish_sites
from tests.support.staging import committed_key

pytestmark = pytest.mark.db

SITE = Site("E2720299999101", "テスト小学校", 135.372, 34.461, 200, flood=True)
HERE = {"lon": 135.3716, "lat": 34.4603}
NEAREST_OPEN = {"layer": "evacuation_sites", "open": "true", "hazard": "flood"} | HERE
ANSWER = {"hazard": "flood"} | HERE


def _open(base: str, key: str) -> None:
    item = f"/api/collections/shelter_status/items/evacuation_sites:{KISHIWADA}-{SITE.common_id}"
    with httpx.Client(base_url=base) as app:
        etag = app.get(item).headers["ETag"]
        answer = app.patch(
            item,
            json={"status": "open"},
            headers={"Authorization": f"Bearer {key}", "If-Match": etag},
        )
    assert answer.status_code == 200, answer.text


def test_the_first_read_after_a_site_opens_names_it_through_nginx(scratch):
    settings, engine = scratch
    with make_sessionmaker(engine)() as session:
        publish_sites(session, settings, [SITE])
    key = committed_key(engine, "duty", role="status")
    with serve(settings) as base, nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        before = http.get("/api/nearest", params=NEAREST_OPEN).json()
        assert before["openStatus"] == "not_published" and before["features"] == []
        assert "開設状況は未発表" in http.get("/api/answer", params=ANSWER).json()["text"]
        assert http.get("/api/nearest", params=NEAREST_OPEN).headers["x-cache-status"] == "HIT"
        # Both cached answers lie unused past their lifetime and its stale-while-revalidate;
        # nginx's "updating" would then hand out the old one first, however old.
        time.sleep(STATUS_SHARED_MAX_AGE_S + STATUS_STALE_S + 1)
        _open(base, key)
        after = http.get("/api/nearest", params=NEAREST_OPEN)
        assert after.headers["x-cache-status"] != "STALE"
        assert [f["properties"]["name"] for f in after.json()["features"]] == [SITE.name]
        answer = http.get("/api/answer", params=ANSWER).json()
        assert answer["open_status"] == "open"
        assert answer["site_text"]["ja"].startswith(
            f"開設中の最寄りの洪水の避難場所：岸和田市の{SITE.name}"
        )
