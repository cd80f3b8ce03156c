"""No bare 500: odd input on every route answers from the error table, logged and counted.

The routes are enumerated from the app (as ``test_access`` does), so a route added tomorrow is
probed too: ids past bigint in every integer path parameter, a NUL byte in every form field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import UploadFile
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from mapsvc.api.deps import get_session
from mapsvc.api.routers import ROUTERS as API
from mapsvc.app import create_app
from mapsvc.staff.routers import ROUTERS as STAFF
from tests.conftest import bearer
from tests.support.portal import PASSWORD, account, csrf, sign_in

pytestmark = pytest.mark.db

PREFECTURE, KISHIWADA = "270008", "272027"
ADMIN = "admin@pref.osaka.lg.jp"
# What each path parameter gets when it is not the one under test.
ORDINARY = {
    "layer": "aed",
    "municipality": KISHIWADA,
    "prefix": "msk_none",
    "token": "x" * 43,
    "step": "publish",
    "fmt": "csv",
    "feature_id": "272027-1",
    "tms": "WebMercatorQuad",
    "job": "none",
}
PAST_RANGE = (2**63, 2**31, -(2**63) - 1, 10**30)


@pytest.fixture
def admin(session, test_settings, keys) -> Iterator[tuple[TestClient, str]]:
    """The prefecture's administrator, signed in and holding the admin key (every route is
    open to them), and the session's form token."""
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    account(session, test_settings, ADMIN, PREFECTURE, "admin")
    with TestClient(app, base_url="https://testserver", headers=bearer(keys["admin"])) as browser:
        assert sign_in(browser, ADMIN).status_code == 303
        yield browser, csrf(browser.get("/staff/").text)


def routes() -> list[APIRoute]:
    """Every route of the JSON API and the portal."""
    return [r for router in (*API, *STAFF) for r in router.routes if isinstance(r, APIRoute)]


def solved(dependant: Dependant) -> Iterator[Dependant]:
    """The route's own parameters and those of every dependency it solves."""
    yield dependant
    for sub in dependant.dependencies:
        yield from solved(sub)


def int_params(route: APIRoute) -> list[str]:
    """The route's integer path parameters, by their names in the path."""
    params = (p for d in solved(route.dependant) for p in d.path_params)
    return sorted({p.alias for p in params if p.field_info.annotation is int})


def in_the_error_table(response) -> bool:
    if response.headers.get("content-type", "").startswith("text/html"):
        return "<html" in response.text.lower()
    return {"code", "message_ja", "message_en"} <= set(response.json())


def test_ids_past_every_integer_range_are_refused_on_every_route(admin):
    browser, token = admin
    probed = 0
    for route in routes():
        for name in int_params(route):
            for number in PAST_RANGE:
                values = ORDINARY | dict.fromkeys(int_params(route), "1") | {name: str(number)}
                path = route.path_format.format(**values)
                for method in route.methods - {"HEAD"}:
                    answer = browser.request(
                        method, path, data={"csrf": token} if method == "POST" else None
                    )
                    probed += 1
                    assert answer.status_code < 500, (method, path, answer.text[:300])
                    assert in_the_error_table(answer) or answer.status_code < 400, path
    assert probed >= 24 * len(PAST_RANGE)


def form_fields(route: APIRoute) -> tuple[list[str], list[str]]:
    """The route's form fields and file fields, by their names in the form."""
    fields, files = set(), set()
    for param in (p for d in solved(route.dependant) for p in d.body_params):
        kind = files if param.field_info.annotation is UploadFile else fields
        kind.add(param.alias)
    return sorted(fields), sorted(files)


def test_a_nul_byte_in_any_form_field_of_any_route_is_a_400_never_a_500(admin):
    browser, token = admin
    probed = 0
    for route in routes():
        fields, files = form_fields(route)
        if "POST" not in route.methods or not (fields or files):
            continue
        path = route.path_format.format(**ORDINARY, **dict.fromkeys(int_params(route), "1"))
        for field in fields:
            data = {"csrf": token} | {f: ("ab\x00cd" if f == field else "1") for f in fields}
            sent = dict.fromkeys(files, ("aed.csv", b"a,b\r\n1,2\r\n"))
            answer = browser.post(path, data=data, files=sent or None, follow_redirects=False)
            probed += 1
            assert answer.status_code < 500, (path, field, answer.text[:300])
            assert in_the_error_table(answer) or answer.status_code < 400, (path, field)
    assert probed >= 16


def test_a_nul_byte_at_anonymous_sign_in_is_a_400_page(session, test_settings):
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, base_url="https://testserver") as stranger:
        for field in ("login", "password", "next"):
            page = stranger.get("/staff/login")  # each answer sets a new form token
            form = {"login": "someone", "password": PASSWORD, "csrf": csrf(page.text)}
            answer = stranger.post("/staff/login", data=form | {field: "a\x00b"})
            assert answer.status_code in (400, 401), (field, answer.text[:300])
            assert "<html" in answer.text.lower()


def test_a_huge_form_of_ampersands_is_refused_before_it_is_parsed(client):
    answer = client.post(
        "/staff/login",
        content=b"&" * (45 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413 and answer.json()["code"] == "payload_too_large"


def test_a_bug_answers_from_the_error_table_and_is_logged_and_counted_as_a_500(
    session, test_settings, caplog
):
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session

    def broken() -> None:
        raise RuntimeError("a bug nobody planned for")

    app.add_api_route("/api/broken", broken)
    app.router.routes.insert(0, app.router.routes.pop())  # before the viewer's files at "/"
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.INFO):
        answer = client.get("/api/broken")
    metrics = generate_latest(app.state.metrics.registry).decode()
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"
    assert answer.headers["content-security-policy"]  # it passed every middleware
    assert any("a bug nobody planned for" in (r.exc_text or "") for r in caplog.records)
    access = [r for r in caplog.records if r.name == "mapsvc.access"]
    assert any(getattr(r, "fields", {}).get("status") == 500 for r in access)
    counted = [line for line in metrics.splitlines() if line.startswith("mapsvc_http_request_dur")]
    assert counted and all('status="5xx"' in line for line in counted), metrics
