"""Headers a client may forge: duplicated singletons, forwarded headers from untrusted peers, NUL.

Each case was a way to poison the shared response cache or dodge the download limit; all run
against a real server, since the duplicated headers never survive a test client.
"""

import socket

import httpx
import pytest

from tests.support.server import live_server

pytestmark = pytest.mark.db

ITEMS = "/api/collections/schools/items?limit=1"
DOWNLOAD = "/api/collections/schools/download.csv?municipality=273830"


def raw_get(base: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, bytes, bytes]:
    """GET with exactly these header lines (repeats included): status, head, body."""
    host, port = base.removeprefix("http://").split(":")
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\n{lines}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower(), body


def links(response: httpx.Response) -> set[str]:
    return {link["href"].split("/api/")[0] for link in response.json()["links"]}


@pytest.fixture(scope="module")
def untrusting(test_settings, demo):
    """A server with no trusted proxy (the default), at most 3 downloads a minute per client."""
    url = test_settings.database.url.get_secret_value()
    with live_server(url, MAPSVC_API__DOWNLOADS_PER_MINUTE="3") as base:
        yield base


@pytest.fixture(scope="module")
def behind_proxy(test_settings, demo):
    """The same behind a proxy on loopback, as deploy/ runs it."""
    url = test_settings.database.url.get_secret_value()
    with live_server(
        url, MAPSVC_API__DOWNLOADS_PER_MINUTE="3", MAPSVC_TRUSTED_PROXIES="127.0.0.1"
    ) as base:
        yield base


def test_a_duplicated_host_is_refused_and_poisons_nothing(untrusting):
    status, _, body = raw_get(untrusting, ITEMS, [("Host", "evil.example"), ("Host", "127.0.0.1")])
    assert status == 400 and b"header host appears more than once" in body
    assert b"evil.example" not in httpx.get(f"{untrusting}{ITEMS}").content


def test_repeated_accept_encoding_is_read_as_one_list(untrusting):
    path = "/api/collections/schools/items?limit=20&offset=3"  # large enough to compress
    status, head, _ = raw_get(
        untrusting,
        path,
        [("Host", "127.0.0.1"), ("Accept-Encoding", "gzip"), ("Accept-Encoding", "identity")],
    )
    assert status == 200 and b"content-encoding: gzip" in head
    plain = httpx.get(f"{untrusting}{path}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json()["numberReturned"] == 20


def test_forwarded_headers_from_an_untrusted_peer_change_nothing(untrusting):
    forged = httpx.get(f"{untrusting}{ITEMS}", headers={"X-Forwarded-Proto": "https"})
    assert links(forged) == {untrusting}
    statuses = [
        httpx.get(f"{untrusting}{DOWNLOAD}", headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
        for n in range(5)
    ]
    assert statuses.count(200) == 3 and statuses[3:] == [429, 429]


def test_a_trusted_proxy_sets_scheme_and_client_and_the_cache_keeps_them_apart(behind_proxy):
    secure = httpx.get(f"{behind_proxy}{ITEMS}", headers={"X-Forwarded-Proto": "https"})
    assert links(secure) == {behind_proxy.replace("http://", "https://")}
    again = httpx.get(f"{behind_proxy}{ITEMS}")
    assert links(again) == {behind_proxy}, "an https entry was served to an http client"
    assert httpx.get(f"{behind_proxy}{ITEMS}").headers.get("x-cache") == "hit"
    statuses = [
        httpx.get(f"{behind_proxy}{DOWNLOAD}", headers={"X-Forwarded-For": f"10.0.0.{n}"})
        for n in range(5)
    ]
    assert [r.status_code for r in statuses] == [200] * 5  # five clients, one download each


@pytest.mark.parametrize(
    "path",
    [
        "/api/collections/schools/items?name=a%00b",
        "/api/collections/schools/items?filter=name%3D'a%00'",
        "/api/collections/schools/items/a%00b",
        "/api/search?q=a%00b",
    ],
)
def test_a_nul_byte_anywhere_in_the_url_is_a_400(untrusting, path):
    response = httpx.get(f"{untrusting}{path}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter" and "NUL" in response.json()["detail"]
