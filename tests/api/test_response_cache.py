"""The in-memory response cache of a real server: hits, revalidation, and dropping on publish."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from mapsvc.db.publication_watch import APPLICATION_NAME
from tests.support.cli import run_mapsvc
from tests.support.paths import TEST_DATA
from tests.support.server import live_server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db

AED = TEST_DATA / "viewer" / "hostile_aed.geojson"
AEDS_IN_FILE = len(json.loads(AED.read_text("utf-8"))["features"])


def publish_aeds(settings) -> None:
    done = run_mapsvc(
        "import",
        "--layer",
        "aed",
        "--municipality",
        "271004",
        "--publish",
        str(AED),
        settings=settings,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def aed_count(response: httpx.Response) -> int:
    return next(c["numberPublished"] for c in response.json()["layers"] if c["id"] == "aed")


def test_hits_revalidation_and_a_publish_drops_the_cache(scratch):
    settings, _ = scratch
    with live_server(settings.database.url.get_secret_value()) as base, httpx.Client() as http:
        first = http.get(f"{base}/api/layers")
        assert first.status_code == 200 and "x-cache" not in first.headers
        assert aed_count(first) == 0
        second = http.get(f"{base}/api/layers")
        assert second.headers["x-cache"] == "hit"
        assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
        assert second.headers["content-encoding"] == "br"  # httpx accepts br (brotli installed)
        gzipped = http.get(f"{base}/api/layers", headers={"Accept-Encoding": "gzip"})
        assert gzipped.headers["content-encoding"] == "gzip" and "x-cache" not in gzipped.headers
        assert gzipped.json() == first.json()
        plain = http.get(f"{base}/api/layers", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.json() == first.json()
        again = http.get(f"{base}/api/layers", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.headers["x-cache"] == "hit"
        assert again.headers["etag"] == first.headers["etag"] and again.content == b""

        publish_aeds(settings)  # another process, as an upload would be
        fresh = wait_for(  # the notice arrives at commit; allow for scheduling
            lambda: http.get(
                f"{base}/api/layers", headers={"If-None-Match": first.headers["etag"]}
            ),
            until=lambda answer: answer.status_code == 200,
            timeout=5,
            what="the publish to drop the entry",
        )
        assert aed_count(fresh) == AEDS_IN_FILE
        assert fresh.headers["etag"] != first.headers["etag"]


def test_errors_and_staff_endpoints_are_never_kept(scratch):
    settings, _ = scratch
    with live_server(settings.database.url.get_secret_value()) as base, httpx.Client() as http:
        for _ in range(2):
            missing = http.get(f"{base}/api/collections/nope/items")
            assert missing.status_code == 404 and "x-cache" not in missing.headers
            staff = http.get(f"{base}/api/datasets/aed/271004/versions")
            assert staff.status_code == 401 and "x-cache" not in staff.headers
            with_key = http.get(f"{base}/api/layers", headers={"Authorization": "Bearer msk_x"})
            assert with_key.status_code == 200 and "x-cache" not in with_key.headers


def test_a_lost_listener_stops_the_cache_until_it_listens_again(scratch):
    """If the notice channel drops, a publish could go unheard: nothing may be served from memory."""
    settings, engine = scratch
    with live_server(settings.database.url.get_secret_value()) as base, httpx.Client() as http:
        http.get(f"{base}/api/layers")
        assert http.get(f"{base}/api/layers").headers["x-cache"] == "hit"
        with engine.begin() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name LIKE :name AND datname = current_database()"
                ),
                {"name": f"{APPLICATION_NAME}%"},
            ).scalar_one()
        assert killed == 1
        headers: list[str | None] = []

        def seen() -> list[str | None]:
            headers.append(http.get(f"{base}/api/layers").headers.get("x-cache"))
            return headers

        # Misses once the loss is noticed, then a fresh entry, then hits.
        wait_for(
            seen,
            until=lambda seen: seen[-2:] == ["hit", "hit"] and None in seen,
            timeout=20,
            interval=0.1,
            what="misses, then hits again",
        )


def test_the_same_miss_at_once_asks_the_database_once(scratch):
    """The first requests after a publish arrive together: one computes, the rest wait for it."""
    settings, _ = scratch
    publish_aeds(settings)
    with live_server(settings.database.url.get_secret_value()) as base:
        path = f"{base}/api/collections/aed/items?limit=7"
        barrier = threading.Barrier(24)

        def together(_: int) -> httpx.Response:
            with httpx.Client() as http:
                http.get(f"{base}/healthz")  # connected before the barrier
                barrier.wait()
                return http.get(path)

        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(together, range(24)))
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1
        assert [a.headers.get("x-cache") for a in answers].count(None) == 1
