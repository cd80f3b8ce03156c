"""The shipped nginx (deploy/nginx) in front of a real server: HTTP/2 over TLS, what it caches
and what it never does, how soon a publish shows through it, stale answers while the app is down,
and the limits that count across workers."""

from __future__ import annotations

import json
import socket
from contextlib import ExitStack

import pytest

from mapsvc.api.caching import SHARED_MAX_AGE_S
from tests.deploy.test_workers import ITEMS, publish_aeds
from tests.support.proxy import nginx_proxy
from tests.support.server import live_server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db


def upstream_of(base: str) -> str:
    return base.removeprefix("http://")


def serve(settings):
    return live_server(settings.database.url.get_secret_value(), MAPSVC_TRUSTED_PROXIES="127.0.0.1")


# Polling until the entry expires: nginx counts whole seconds, so allow two more.
PAST_EXPIRY = {"timeout": SHARED_MAX_AGE_S + 2, "interval": 0.1, "what": "the entry to expire"}


def cache_status(http) -> str:
    return http.get(ITEMS).headers["x-cache-status"]


def log_entries(proxy) -> list[dict]:
    return [json.loads(line) for line in proxy.access_log()]


def test_public_reads_are_cached_and_a_publish_shows_within_the_shared_max_age(scratch):
    settings, engine = scratch
    publish_aeds(settings, engine, 1)
    with serve(settings) as base, nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        first = http.get(ITEMS)
        assert first.http_version == "HTTP/2" and first.status_code == 200
        assert first.headers["x-cache-status"] == "MISS" and first.json()["numberMatched"] == 1
        second = http.get(ITEMS)
        assert second.headers["x-cache-status"] == "HIT" and second.content == first.content
        assert second.headers["etag"] == first.headers["etag"]
        assert second.headers["x-request-id"] != first.headers["x-request-id"]  # its own id
        # The app saw the client's host and scheme (and the proxy's request id): its links lead
        # back through the proxy, not to the upstream's name.
        landing = http.get("/api/")
        assert landing.json()["links"][0]["href"] == f"{proxy.url}/api/"
        layers = [http.get("/api/layers") for _ in range(2)]  # large enough to be compressed
        assert [r.headers["content-encoding"] for r in layers] == ["br", "br"]  # httpx accepts br
        gzipped = http.get("/api/layers", headers={"Accept-Encoding": "gzip"})  # its own entry
        assert gzipped.headers["x-cache-status"] == "MISS"
        assert gzipped.headers["content-encoding"] == "gzip" and gzipped.json() == layers[1].json()
        plain = http.get("/api/layers", headers={"Accept-Encoding": "identity"})  # its own entry
        assert plain.headers["x-cache-status"] == "MISS" and "content-encoding" not in plain.headers
        assert plain.json() == layers[1].json()
        again = http.get(ITEMS, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.headers["x-cache-status"] == "HIT"

        publish_aeds(settings, engine, 2)
        answer = wait_for(
            lambda: http.get(ITEMS),
            until=lambda answer: answer.json()["numberMatched"] == 2,
            timeout=SHARED_MAX_AGE_S + 2,
            what="the publish to show",
        )
        assert answer.headers["etag"] != first.headers["etag"]


def test_unchanged_data_is_revalidated_with_a_304_from_the_app(scratch):
    settings, engine = scratch
    publish_aeds(settings, engine, 1)
    with serve(settings) as base, nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        http.get(ITEMS)
        first_after_expiry = wait_for(
            lambda: cache_status(http), until=lambda status: status != "HIT", **PAST_EXPIRY
        )
        # The first after expiry is answered from the stale entry while nginx revalidates it in
        # the background (stale-while-revalidate), or revalidated in place; then hits again.
        assert first_after_expiry in {"STALE", "UPDATING", "REVALIDATED"}
        wait_for(lambda: cache_status(http) == "HIT", timeout=5, what="a hit again")


def test_credentials_staff_pages_and_metrics_never_pass_through_the_cache(scratch):
    settings, _ = scratch
    with serve(settings) as base, nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        for _ in range(2):
            keyed = http.get("/api/layers", headers={"Authorization": "Bearer msk_x"})
            assert keyed.headers["x-cache-status"] == "BYPASS"
        # What a keyed request fetched was not stored for others.
        assert http.get("/api/layers").headers["x-cache-status"] == "MISS"
        assert (
            http.get("/api/layers", headers={"Cookie": "a=b"}).headers["x-cache-status"] == "BYPASS"
        )
        for _ in range(2):
            staff = http.get("/staff/login")
            assert staff.status_code == 200 and "x-cache-status" not in staff.headers
            assert http.get("/api/datasets/aed/272027/versions").status_code == 401
        entries = log_entries(proxy)
        staff_entries = [e for e in entries if e["uri"].startswith(("/staff/", "/api/datasets/"))]
        assert len(staff_entries) == 4 and all(
            e["upstream_s"] not in ("", "-") for e in staff_entries
        )
        assert all(e["cache"] == "" for e in staff_entries)
        assert http.get("/metrics").status_code == 404  # for the scraper, directly on the app


def test_the_viewer_is_compressed_and_uploads_over_the_apps_limit_stop_at_the_proxy(scratch):
    settings, _ = scratch
    with serve(settings) as base, nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        plain = http.get("/", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and "<html" in plain.text
        with http.stream("GET", "/", headers={"Accept-Encoding": "br, gzip"}) as page:
            sent = b"".join(page.iter_raw())  # as it came over the wire
        assert page.headers["content-encoding"] == "br"  # by the app, whatever nginx has
        again = http.get("/", headers={"Accept-Encoding": "br, gzip"})
        assert again.headers["x-cache-status"] == "HIT"  # a crowd's first visits stay in nginx
        assert len(sent) < len(plain.content) / 2
        # A declared body over 50 MiB is refused before any of it is read.
        host, port = proxy.url.removeprefix("https://").split(":")
        with (
            socket.create_connection((host, int(port))) as raw,
            proxy.trust().wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(
                b"POST /api/datasets/aed/272027/versions HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: text/csv\r\nContent-Length: 53477376\r\n\r\n"
            )
            assert tls.recv(64).startswith(b"HTTP/1.1 413")


def test_sign_ins_and_downloads_are_limited_at_the_proxy_across_workers(scratch):
    settings, engine = scratch
    publish_aeds(settings, engine, 1)
    with serve(settings) as base, nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        logins = [
            http.post("/staff/login", data={"login": "x", "password": "y"}).status_code
            for _ in range(8)
        ]
        assert logins[:6].count(429) == 0 and 429 in logins[6:]
        assert http.get("/staff/login").status_code == 200  # reading the form is not limited
        downloads = [http.get("/api/collections/aed/download.csv").status_code for _ in range(13)]
        # nginx: 30/min with a burst of 10 for this address, whichever worker would answer.
        assert downloads[:11] == [200] * 11 and downloads[11:] == [429, 429]


def test_the_proxy_answers_stale_public_data_while_the_app_is_down(scratch):
    settings, engine = scratch
    publish_aeds(settings, engine, 1)
    app = ExitStack()
    base = app.enter_context(serve(settings))
    with nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        fresh = http.get(ITEMS)
        assert fresh.status_code == 200
        app.close()  # the app is gone
        stale = wait_for(
            lambda: http.get(ITEMS),
            until=lambda answer: answer.headers["x-cache-status"] != "HIT",
            **PAST_EXPIRY,
        )
        assert stale.status_code == 200 and stale.headers["x-cache-status"] == "STALE"
        assert stale.content == fresh.content
        never_seen = http.get("/api/collections/aed/items?limit=3")
        assert never_seen.status_code == 502


def test_a_one_time_links_token_stays_out_of_the_proxys_access_log(scratch):
    settings, _ = scratch
    token = "Sv3-one-time-token-that-must-not-be-logged"  # noqa: S105 - a made-up link
    with serve(settings) as base, nginx_proxy(upstream_of(base)) as proxy, proxy.client() as http:
        assert http.get(f"/staff/setup/{token}").status_code == 404  # no such link: still logged
        assert http.get("/staff/login").status_code == 200
        uris = [e["uri"] for e in log_entries(proxy) if e["uri"].startswith("/staff/")]
        assert uris == ["/staff/setup/[redacted]", "/staff/login"]
        assert token not in "\n".join(proxy.access_log())
