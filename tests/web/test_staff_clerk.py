"""The portal as a clerk meets it, in Chromium at phone size (390 × 844) and on a desktop.

An editor uploads a file with a row in error, opens the fix page and asks to publish; the
publisher finds the request at the top of the home page, reads what publishing changes and
publishes, accepting the row left out. On a phone every table is a stack of cards: nothing
scrolls sideways and no cell wraps a character per line. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import ARTEFACTS, PHONE, axe_violations, phone
from tests.support.portal import aed_csv
from tests.web.conftest import choose_password_and_sign_in, invitation, published_names

pytestmark = pytest.mark.db

EDITOR = "tanto@city.kishiwada.lg.jp"
PUBLISHER = "kacho@city.kishiwada.lg.jp"
DESKTOP = {"width": 1280, "height": 800}
ROWS = [
    ("岸和田市役所AED", "34.4603", "135.3716"),
    ("岸和田城AED", "34.4597", "135.3680"),
    ("緯度の誤り", "北緯34度", "135.3700"),
]


def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def fits_the_screen(page: Page, width: int) -> None:
    """No sideways scrolling, and no cell squeezed so narrow that its text wraps line by line."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    squeezed = page.evaluate(
        """() => [...document.querySelectorAll('main tbody td, main tbody th')]
            .filter(c => c.offsetParent !== null)
            .filter(c => {
                const box = c.getBoundingClientRect();
                const line = parseFloat(getComputedStyle(c).lineHeight) || 26;
                return box.width < 100 && box.height > 2.5 * line;  // 3+ lines in < 6 characters
            })
            .map(c => c.textContent.trim())"""
    )
    assert squeezed == [], squeezed


def as_cards(page: Page, table: str) -> bool:
    """Whether the table is shown as cards (its header hidden, rows as blocks)."""
    return page.evaluate(
        f"""() => {{
            const t = document.querySelector({table!r});
            return getComputedStyle(t.querySelector('tr')).display === 'block'
                && t.querySelector('thead').getBoundingClientRect().height <= 1;
        }}"""
    )


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_clerk_asks_to_publish_and_the_publisher_publishes_what_the_page_says(
    browser: Browser, server, tmp_path, size
):
    base, _, settings = server
    editor_login, publisher_login = f"{size}-{EDITOR}", f"{size}-{PUBLISHER}"
    links = [
        invitation(settings, editor_login, "272027", "editor", "岸和田市 危機管理課"),
        invitation(settings, publisher_login, "272027", "publisher", "岸和田市 危機管理課長"),
    ]
    width = PHONE["width"] if size == "phone" else DESKTOP["width"]

    def context():  # axe needs the page's CSP bypassed
        if size == "phone":
            return phone(browser, bypass_csp=True)
        return browser.new_context(locale="ja-JP", viewport=DESKTOP, bypass_csp=True)

    editor = context().new_page()
    choose_password_and_sign_in(editor, f"{base}{links[0]}", editor_login)
    expect(editor.locator("h1")).to_have_text("データ一覧")
    assert as_cards(editor, "table.datasets") == (size == "phone")
    fits_the_screen(editor, width)
    editor.goto(f"{base}/staff/datasets/aed/272027")
    upload = tmp_path / "aed.csv"
    upload.write_bytes(aed_csv([(f"{size}{n}", lat, lon) for n, lat, lon in ROWS]))
    editor.set_input_files("#file", str(upload))
    editor.click("summary")
    editor.check("input[name=accept_partial]")
    editor.get_by_role("button", name="読み込んで確認する").click()
    expect(editor.locator("h1")).to_contain_text("確認結果", timeout=60_000)
    assert as_cards(editor, "table.issues") == (size == "phone")
    fits_the_screen(editor, width)
    shot(editor, f"clerk-{size}-report-ja")
    assert axe_violations(editor) == []
    report = editor.url
    editor.locator("table.issues tr.error a", has_text="直す").first.click()
    expect(editor.locator("h1")).to_have_text("4行目を直す")
    fits_the_screen(editor, width)
    shot(editor, f"clerk-{size}-fix-ja")
    editor.goto(report)
    editor.get_by_role("button", name="公開を依頼").click()
    expect(editor.locator(".notice")).to_contain_text(re.compile("公開担当者 [12] 人に公開を依頼"))

    publisher = context().new_page()
    choose_password_and_sign_in(publisher, f"{base}{links[1]}", publisher_login)
    requests = publisher.locator("section.requests")
    expect(requests).to_contain_text(editor_login)
    first = publisher.evaluate(
        "() => document.querySelector('main h1').nextElementSibling.className"
    )
    assert "requests" in first  # at the top of the home page
    fits_the_screen(publisher, width)
    shot(publisher, f"clerk-{size}-home-ja")
    assert axe_violations(publisher) == []
    requests.get_by_role("link").first.click()
    publisher.get_by_role("link", name="公開する", exact=True).click()
    expect(publisher.locator("section.changes")).to_contain_text("追加 2 件")
    expect(publisher.locator("section.dropped")).to_contain_text("北緯34度")
    assert as_cards(publisher, "section.dropped table") == (size == "phone")
    fits_the_screen(publisher, width)
    shot(publisher, f"clerk-{size}-publish-confirm-ja")
    assert axe_violations(publisher) == []
    publisher.get_by_role("button", name="はい、公開します").click()  # the box is not ticked
    expect(publisher.locator("h1")).to_contain_text("公開")  # the browser keeps the form
    assert f"{size}岸和田城AED" not in published_names(base, f"{size}岸和田城AED")
    publisher.check("#accept-dropped")
    publisher.get_by_role("button", name="はい、公開します").click()
    expect(publisher.locator(".notice")).to_contain_text("公開しました")
    assert f"{size}岸和田城AED" in published_names(base, f"{size}岸和田城AED")
    publisher.goto(f"{base}/staff/")
    expect(publisher.locator("section.requests")).to_have_count(0)  # done
