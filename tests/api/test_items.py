"""The items route: every answer and refusal, revalidation and HEAD, and a database that gives up."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

SMALL = "135.375,34.455,135.395,34.470"
ZONE_VI = "http://www.opengis.net/def/crs/EPSG/0/6674"

# (path's layer, query, status): what the route answers and what it refuses, with which status.
CASES = [
    ("evacuation_sites", "", 200),
    ("evacuation_sites", f"bbox={SMALL}&limit=100", 200),
    ("evacuation_sites", f"bbox={SMALL}&limit=3&offset=2&f=json", 200),
    ("evacuation_sites", "limit=5&offset=10000000", 200),
    ("evacuation_sites", f"limit=2&crs={quote('http://www.opengis.net/def/crs/EPSG/0/6668')}", 200),
    (
        "evacuation_sites",
        f"bbox=-55000,-170000,-50000,-165000&bbox-crs={quote(ZONE_VI)}&limit=4",
        200,
    ),
    ("evacuation_sites", "municipality=272027&limit=3&sortby=-name&properties=name", 200),
    ("evacuation_sites", "filter=" + quote("name LIKE '%小学校%'") + "&limit=3", 200),
    ("evacuation_sites", "datetime=2026-01-01T00:00:00Z&limit=1", 200),
    ("evacuation_sites", "limit=+5", 200),
    ("evacuation_sites", f"bbox=1,2,3,4&bbox={SMALL}", 200),  # the last of a repeated parameter
    ("aed", "limit=2&name=" + quote("岸和田市役所"), 200),
    ("evacuation_sites", "bbox=1,2,3", 400),
    ("evacuation_sites", "crs=urn:nothing", 400),
    ("evacuation_sites", "municipality=999999", 400),
    ("evacuation_sites", "limit=100000", 400),
    ("evacuation_sites", "sortby=nothing", 400),
    ("evacuation_sites", "filter=" + quote("name LIKE"), 400),
    ("aed", "on_fire_engine=maybe", 400),
    ("evacuation_sites", "limit=0", 400),
    ("evacuation_sites", "limit=abc", 400),
    ("evacuation_sites", "limit=", 400),
    ("evacuation_sites", "offset=10000001", 400),
    ("evacuation_sites", "unknown=1", 400),
    ("no_such_layer", "limit=1", 404),
    ("no_such_layer", "limit=0", 404),  # the layer is looked at first
]


@pytest.mark.parametrize(("layer", "query", "status"), CASES)
def test_each_request_is_answered_or_refused_in_the_documented_shape(
    client: TestClient, layer: str, query: str, status: int
) -> None:
    url = f"/api/collections/{layer}/items?{query}"
    identity = {"Accept-Encoding": "identity"}  # HEAD, like GET, is compressed when asked
    response = client.get(url, headers=identity)
    assert response.status_code == status, response.text
    if status != 200:
        body = response.json()
        assert body["code"] and body["message_ja"] and body["message_en"]
        return
    assert response.json()["type"] == "FeatureCollection"
    assert response.headers["content-crs"].startswith("<http://www.opengis.net/def/crs/")
    etag = response.headers["etag"]
    revalidated = client.get(url, headers={"If-None-Match": etag})
    assert (revalidated.status_code, revalidated.headers["etag"]) == (304, etag)
    head = client.head(url, headers=identity)
    assert (head.status_code, head.content) == (200, b"")
    # Vary: a HEAD says "Origin" only (compression never sees a body); noted, not changed here.
    varying = {"x-request-id", "server-timing", "content-length", "vary"}
    assert {k: v for k, v in head.headers.items() if k not in varying} == {
        k: v for k, v in response.headers.items() if k not in varying
    }


def test_the_same_request_gets_the_same_bytes_in_every_encoding(client: TestClient) -> None:
    url = f"/api/collections/evacuation_sites/items?bbox={SMALL}&limit=100"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    compressed = client.get(url, headers={"Accept-Encoding": "br"})
    assert compressed.headers["content-encoding"] == "br"
    assert plain.content == compressed.content == client.get(url).content  # decoded alike
    assert plain.headers["etag"] == compressed.headers["etag"]


def test_a_database_that_gives_up_is_answered_503(
    client: TestClient, session: Session, engine: Engine
) -> None:
    # A statement that times out waiting for a lock must reach the error table as SQLAlchemy's
    # OperationalError (503, retry later), not escape as a 500.
    session.execute(text("SET LOCAL lock_timeout = '200ms'"))
    with engine.connect() as other, other.begin():
        other.execute(text("LOCK TABLE feature IN ACCESS EXCLUSIVE MODE"))
        response = client.get(f"/api/collections/evacuation_sites/items?bbox={SMALL}&limit=5")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["code"] == "unavailable"
