"""The residents' side of a disaster day, in a real browser at phone size (issue #28).

Sharing a site with family (a link and a QR code, from our own copy of the QR library).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from mapsvc.db.engine import drop_database
from tests.support.browser import chromium, phone
from tests.support.server import live_server

pytestmark = pytest.mark.db

OSAKA_CITY = "271004"


@pytest.fixture(scope="module")
def database(templates) -> Iterator[str]:
    """The demo, published (its own copy: status changes stay in this module)."""
    settings, name = templates.copy(templates.demo)
    try:
        yield settings.database.url.get_secret_value()
    finally:
        drop_database(templates.server_url, name)


@pytest.fixture(scope="module")
def base_url(database: str) -> Iterator[str]:
    with live_server(database) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def a_shelter(base: str, code: str = OSAKA_CITY) -> dict[str, Any]:
    """One of the municipality's published shelters (a GeoJSON feature)."""
    found = httpx.get(
        f"{base}/api/collections/shelters/items", params={"municipality": code, "limit": 1}
    )
    feature: dict[str, Any] = found.json()["features"][0]
    return feature


def open_site(page: Page, base: str, site: dict[str, Any], lang: str = "ja") -> None:
    lon, lat = site["geometry"]["coordinates"]
    page.goto(
        f"{base}/#map=16/{lat}/{lon}&layers=shelters&feature=shelters/{site['id']}&lang={lang}"
    )
    expect(page.locator(".leaflet-popup .popup h3")).to_have_text(site["properties"]["name"])


def test_a_site_is_shared_as_a_link_and_a_qr_code_that_open_it(browser: Browser, base_url: str):
    site = a_shelter(base_url)
    context = phone(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    scripts_elsewhere: list[str] = []
    page.on(
        "request",
        lambda r: (
            scripts_elsewhere.append(r.url)
            if r.resource_type == "script" and not r.url.startswith(base_url)
            else None
        ),
    )
    open_site(page, base_url, site)
    popup = page.locator(".leaflet-popup")
    with page.expect_response(re.compile(r"/vendor/qrcode-generator/qrcode\.mjs$")) as library:
        popup.get_by_role("button", name="家族に知らせる").click()
    assert library.value.ok
    link = popup.locator("a.share-link")
    expect(link).to_have_attribute(
        "href", re.compile(rf"^{base_url}/#map=16/.*&feature=shelters/{site['id']}&lang=ja$")
    )
    qr = popup.get_by_role("img", name=re.compile("QRコード"))
    expect(qr).to_be_visible()
    assert qr.locator("path").get_attribute("d"), "the QR code has dark modules"
    assert scripts_elsewhere == [], "no script from another origin (no CDN)"
    shared = context.new_page()
    shared.goto(link.get_attribute("href") or "")
    expect(shared.locator(".leaflet-popup .popup h3")).to_have_text(site["properties"]["name"])
    assert errors == [], errors
    context.close()
