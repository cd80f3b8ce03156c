"""Staff portal helpers: accounts with a password already chosen, signing in, forms' tokens."""

from __future__ import annotations

import re
from typing import Any

from mapsvc.services import accounts
from mapsvc.services.session import Session
from mapsvc.settings import Settings

PASSWORD = "kishiwada-aed-2026"  # noqa: S105 - a test account's
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def account(
    session: Session,
    settings: Settings,
    login: str,
    code: str,
    role: str,
    password: str = PASSWORD,
) -> int:
    """An account with one role whose invitation was used to choose ``password``."""
    token = accounts.invite(
        session,
        settings,
        login=login,
        display_name=login,
        roles={code: role},
        actor="test",
        link_for=lambda token: token,
    ).link
    accounts.choose_password(session, settings, token, password)
    return accounts.find_account(session, login).id


def csrf(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: Any, login: str, password: str = PASSWORD) -> Any:
    """Sign in through the form, as a browser does; the response to the POST."""
    page = client.get("/staff/login")
    return client.post(
        "/staff/login",
        data={"login": login, "password": password, "csrf": csrf(page.text), "next": "/staff/"},
        follow_redirects=False,
    )


def aed_csv(rows: list[tuple[str, str, str]]) -> bytes:
    """AEDs as Excel saves a CSV: CP932, CRLF; rows of (名称, 緯度, 経度)."""
    lines = ["名称,住所,緯度,経度", *(f"{n},岸和田市岸城町7-1,{lat},{lon}" for n, lat, lon in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp932")
