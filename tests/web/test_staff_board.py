"""The disaster board in Chromium at phone size (390 × 844), on a live server with the demo data.

A duty officer opens three of 岸和田市's evacuation sites, one tap each; one of them is opened
while the server cannot be reached: its row says 未送信, still does after a reload, and it is
sent once the server answers again. Each site gets exactly one event; a change made against a
state someone else has changed meanwhile is refused and the row shows the state now. A publisher's
disaster-mode page is shot too. Screenshots (ja and en) go to ``test-output/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from mapsvc.db.engine import drop_database, make_engine, make_sessionmaker
from mapsvc.services import shelter_status
from tests.support.browser import ARTEFACTS, PHONE, axe_violations, phone
from tests.support.server import live_server
from tests.web.conftest import LivePortal, choose_password_and_sign_in, invitation

pytestmark = pytest.mark.db

KISHIWADA = "272027"
DUTY = "tochoku@city.kishiwada.lg.jp"
PUBLISHER = "kacho@city.kishiwada.lg.jp"
SENDING_GRACE_MS = 30_000  # a deadline for the retry to happen, not a measured time


@pytest.fixture(scope="module")
def demo_server(templates) -> Iterator[LivePortal]:
    """A live server on a copy of the demo database (岸和田市's sites are published there)."""
    settings, name = templates.copy(templates.demo)
    try:
        link = invitation(settings, DUTY, KISHIWADA, "status", "岸和田市 危機管理課 当直")
        with live_server(settings.database.url.get_secret_value()) as base:
            yield LivePortal(base, f"{base}{link}", settings)
    finally:
        drop_database(templates.server_url, name)


def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=False)


def events_of(portal: LivePortal, key: str) -> list[object]:
    engine = make_engine(portal.settings.database.url.get_secret_value(), portal.settings.database)
    try:
        with make_sessionmaker(engine)() as session:
            return list(
                shelter_status.timeline(session, "evacuation_sites", KISHIWADA, key, mode="real")
            )
    finally:
        engine.dispose()


def test_a_duty_officer_opens_three_sites_one_of_them_offline(browser: Browser, demo_server):
    base = demo_server.base
    page = phone(browser, bypass_csp=True).new_page()
    choose_password_and_sign_in(page, demo_server.admin_link, DUTY)
    page.get_by_role("link", name="災害ボード（避難所の開設状況）").click()
    expect(page.locator("h1")).to_contain_text("災害ボード")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "board-phone-ja")
    assert axe_violations(page) == []
    rows = page.locator("li.site[data-site^='evacuation_sites:']")
    keys = [rows.nth(i).get_attribute("data-site").split(":", 1)[1] for i in range(3)]

    def row(key: str):
        return page.locator(f"li.site[data-site='evacuation_sites:{key}']")

    for key in keys[:2]:  # one tap each
        row(key).get_by_role("button", name="開設", exact=True).click()
        expect(row(key).locator(".status-badge")).to_have_text("開設")
        expect(row(key).locator(".unsent")).to_be_hidden()

    unreachable: list[str] = []

    def refuse(route: Route) -> None:
        unreachable.append(route.request.url)
        route.abort("connectionrefused")

    page.route("**/staff/board/*/change", refuse)
    row(keys[2]).get_by_role("button", name="開設", exact=True).click()
    expect(row(keys[2]).locator(".unsent")).to_be_visible()
    expect(page.locator(".unsent-hint")).to_be_visible()
    shot(page, "board-phone-unsent-ja")
    page.reload()  # the change is kept on the phone, not lost with the page
    expect(row(keys[2]).locator(".unsent")).to_be_visible()
    assert len(unreachable) >= 2 and events_of(demo_server, keys[2]) == []
    page.unroute("**/staff/board/*/change")
    expect(row(keys[2]).locator(".unsent")).to_be_hidden(timeout=SENDING_GRACE_MS)
    expect(row(keys[2]).locator(".status-badge")).to_have_text("開設")
    for key in keys:
        assert [e.status for e in events_of(demo_server, key)] == ["open"], key

    # Someone else closes a site meanwhile: this page's next change of it is refused (412) and
    # its row shows the state now, saying why.
    other = page.context.new_page()
    other.goto(f"{base}/staff/board/{KISHIWADA}")
    mine = other.locator(f"li.site[data-site='evacuation_sites:{keys[1]}']")
    mine.get_by_role("button", name="閉鎖", exact=True).click()
    expect(mine.locator(".status-badge")).to_have_text("閉鎖")
    row(keys[1]).get_by_role("button", name="受け入れ不可", exact=True).click()
    expect(row(keys[1]).locator(".stale-note")).to_be_visible()
    expect(row(keys[1]).locator(".status-badge")).to_have_text("閉鎖")
    assert [e.status for e in events_of(demo_server, keys[1])] == ["open", "closed"]

    page.goto(f"{base}/staff/board/{KISHIWADA}?lang=en")
    expect(row(keys[0]).locator(".status-badge")).to_have_text("Open")
    shot(page, "board-phone-en")
    page.goto(f"{base}/staff/board/{KISHIWADA}?mode=drill&lang=ja")
    expect(page.locator(".mode-banner")).to_contain_text("訓練モード：")
    shot(page, "board-phone-drill-ja")


def test_a_publisher_turns_disaster_mode_on_at_phone_size(browser: Browser, demo_server):
    base = demo_server.base
    link = invitation(
        demo_server.settings, PUBLISHER, KISHIWADA, "publisher", "岸和田市 危機管理課長"
    )
    page = phone(browser, bypass_csp=True).new_page()
    choose_password_and_sign_in(page, f"{base}{link}", PUBLISHER)
    page.get_by_role("link", name="災害モード").first.click()
    expect(page.locator("h1")).to_contain_text("災害モード")
    page.select_option("#hazard", "flood")
    page.select_option("#level", "4")
    page.fill("#message-ja", "大津川が氾濫危険水位に達しました。開設中の避難所へ避難してください。")
    page.fill(
        "#message-en", "The Otsu River has reached the flood danger level: go to an open shelter."
    )
    page.get_by_role("button", name="災害モードを始める").click()
    expect(page.locator(".emergency-on")).to_contain_text("洪水・警戒レベル4")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations(page) == []
    shot(page, "emergency-phone-ja")
    page.goto(f"{base}/staff/emergency/{KISHIWADA}?lang=en")
    expect(page.locator(".emergency-on")).to_contain_text("Flood, alert level 4")
    shot(page, "emergency-phone-en")
    page.get_by_role("button", name="End disaster mode").click()
    expect(page.locator(".notice")).to_contain_text("Disaster mode is off.")
