"""The items fast path answers exactly as the FastAPI route does, and only where it fits."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from mapsvc.api.deps import get_session
from mapsvc.api.routers.items_fast import ItemsFastRoute
from mapsvc.app import create_app
from mapsvc.settings import Settings

SMALL = "135.375,34.455,135.395,34.470"
ZONE_VI = "http://www.opengis.net/def/crs/EPSG/0/6674"

# (path's layer, query): answers, refusals of the shared checks, and what only FastAPI checks.
CASES = [
    ("evacuation_sites", ""),
    ("evacuation_sites", f"bbox={SMALL}&limit=100"),
    ("evacuation_sites", f"bbox={SMALL}&limit=3&offset=2&f=json"),
    ("evacuation_sites", "limit=5&offset=10000000"),
    ("evacuation_sites", f"limit=2&crs={quote('http://www.opengis.net/def/crs/EPSG/0/6668')}"),
    ("evacuation_sites", f"bbox=-55000,-170000,-50000,-165000&bbox-crs={quote(ZONE_VI)}&limit=4"),
    ("evacuation_sites", "municipality=272027&limit=3&sortby=-name&properties=name"),
    ("evacuation_sites", "filter=" + quote("name LIKE '%小学校%'") + "&limit=3"),
    ("evacuation_sites", "datetime=2026-01-01T00:00:00Z&limit=1"),
    ("aed", "limit=2&name=" + quote("岸和田市役所")),
    # Refused by the checks both share
    ("evacuation_sites", "bbox=1,2,3"),
    ("evacuation_sites", "crs=urn:nothing"),
    ("evacuation_sites", "municipality=999999"),
    ("evacuation_sites", "limit=100000"),
    ("evacuation_sites", "sortby=nothing"),
    ("evacuation_sites", "filter=" + quote("name LIKE")),
    ("aed", "on_fire_engine=maybe"),
    # Left to FastAPI
    ("evacuation_sites", "limit=0"),
    ("evacuation_sites", "limit=abc"),
    ("evacuation_sites", "limit="),
    ("evacuation_sites", "limit=+5"),
    ("evacuation_sites", "offset=10000001"),
    ("evacuation_sites", f"bbox={SMALL}&bbox={SMALL}"),
    ("evacuation_sites", "unknown=1"),
    ("no_such_layer", "limit=1"),
]
FITS = {i for i, (layer, query) in enumerate(CASES[:17]) if layer != "no_such_layer"}
VARYING = {"x-request-id", "server-timing"}  # differ between any two requests


def _without_fast_path(app: FastAPI) -> FastAPI:
    app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, ItemsFastRoute)]
    return app


@pytest.fixture
def both(session: Session, test_settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """(with the fast path, FastAPI's route only), each app on the test's session."""
    fast, slow = create_app(test_settings), _without_fast_path(create_app(test_settings))
    for app in (fast, slow):
        app.dependency_overrides[get_session] = lambda: session
    with TestClient(fast) as f, TestClient(slow) as s:
        yield f, s


def _answer(client: TestClient, url: str, method: str = "GET", **headers: str) -> tuple:
    response = client.request(method, url, headers=headers)
    kept = sorted((k, v) for k, v in response.headers.items() if k not in VARYING)
    return response.status_code, kept, response.content


@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_fast_path_answers_byte_for_byte_as_the_route(
    both: tuple[TestClient, TestClient], case: int
) -> None:
    fast, slow = both
    layer, query = CASES[case]
    url = f"/api/collections/{layer}/items?{query}"
    for encoding in ("identity", "br"):
        mine, theirs = (
            _answer(fast, url, **{"Accept-Encoding": encoding}),
            _answer(slow, url, **{"Accept-Encoding": encoding}),
        )
        assert mine == theirs
    if case in FITS:
        etag = dict(mine[1]).get("etag")
        if etag:  # revalidation and HEAD too
            assert _answer(fast, url, **{"If-None-Match": etag})[0] == 304
            assert _answer(fast, url, **{"If-None-Match": etag}) == _answer(
                slow, url, **{"If-None-Match": etag}
            )
        assert _answer(fast, url, "HEAD") == _answer(slow, url, "HEAD")


@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_fast_path_takes_exactly_the_requests_fastapi_would_pass(
    client: TestClient, case: int
) -> None:
    layer, query = CASES[case]
    route = ItemsFastRoute()
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/api/collections/{layer}/items",
        "query_string": query.encode(),
        "app": client.app,
    }
    matched, _ = route.matches(scope)
    assert (matched.name == "FULL") == (case in FITS)
    assert route.matches({**scope, "method": "POST"})[0].name == "NONE"
    assert route.matches({**scope, "path": f"/api/collections/{layer}/items/x"})[0].name == "NONE"


def test_the_openapi_document_is_the_routes(both: tuple[TestClient, TestClient]) -> None:
    # The metrics label is the route's too: tests/api/test_observability.py counts a request the
    # fast path answers under "/api/collections/{layer}/items".
    fast, slow = both
    assert fast.get("/api/openapi.json").content == slow.get("/api/openapi.json").content
    assert fast.get("/openapi.json").content == slow.get("/openapi.json").content


def test_a_database_that_gives_up_is_answered_503_by_the_fast_path_too(
    both: tuple[TestClient, TestClient], session: Session, engine: Engine
) -> None:
    # The fast path runs its SQL on psycopg directly: a driver error must still reach the error
    # table as SQLAlchemy's OperationalError (503, retry later), not escape as a 500.
    fast, _ = both
    session.execute(text("SET LOCAL lock_timeout = '200ms'"))
    with engine.connect() as other, other.begin():
        other.execute(text("LOCK TABLE feature IN ACCESS EXCLUSIVE MODE"))
        response = fast.get(f"/api/collections/evacuation_sites/items?bbox={SMALL}&limit=5")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["code"] == "unavailable"
