"""What the staff portal's browser tests share: a live server on a fresh database, Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from mapsvc.db.engine import drop_database
from mapsvc.settings import Settings
from tests.support.browser import chromium
from tests.support.cli import run_mapsvc
from tests.support.server import live_server

ADMIN = "admin@pref.osaka.lg.jp"
PASSWORD = "kishiwada-2026-aed"  # noqa: S105 - a test account's


class LivePortal(NamedTuple):
    """The server's address, the first admin's invitation link, the database's settings."""

    base: str
    admin_link: str
    settings: Settings


@pytest.fixture(scope="module")
def server(templates) -> Iterator[LivePortal]:
    """A live server on a fresh database (one per test module), and the first admin's link."""
    settings, name = templates.copy(templates.seeded)
    try:
        link = invitation(settings, ADMIN, "270008", "admin", "府 スマートシティ戦略部")
        with live_server(settings.database.url.get_secret_value()) as base:
            yield LivePortal(base, f"{base}{link}", settings)
    finally:
        drop_database(templates.server_url, name)


def invitation(settings: Settings, login: str, code: str, role: str, name: str) -> str:
    """An account made with the CLI, as the first admin is: its invitation's path."""
    made = run_mapsvc(
        "users",
        "create",
        login,
        "--municipality",
        code,
        "--role",
        role,
        "--name",
        name,
        settings=settings,
    )
    assert made.returncode == 0, made.stderr
    return "/staff/setup/" + made.stdout.split("/staff/setup/")[1].split()[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def published_names(base: str, text: str) -> list[str]:
    """What the public search finds for ``text``."""
    found = httpx.get(f"{base}/api/search", params={"q": text}).json()["features"]
    return [f["name"] for f in found]


def choose_password_and_sign_in(page: Page, link: str, login: str) -> None:
    page.goto(link)
    page.fill("#password", PASSWORD)
    page.fill("#again", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("パスワードを設定しました")
    page.get_by_role("link", name="ログイン", exact=True).click()
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
