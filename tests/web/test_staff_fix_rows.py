"""Fixing rows in Chromium at phone size (390 × 844) and on a desktop (issue #25 item 14).

A clerk's file has a swapped pair, a row without coordinates and a misspelt name. The clerk
swaps the pair with one button, places the other row by tapping the map and corrects the name
from the column list, queues a slip and takes it back, and applies the fixes together: one new
version with no rows in error. The fix page with its list is saved as
``test-output/fix-rows-{phone,desktop}-ja.png``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import ARTEFACTS, PHONE, axe_violations, phone
from tests.support.portal import aed_csv
from tests.web.conftest import choose_password_and_sign_in, invitation
from tests.web.test_staff_clerk import DESKTOP, fits_the_screen

pytestmark = pytest.mark.db

ROWS = [
    ("岸和田市役所AED", "34.4603", "135.3716"),
    ("岸和田城AED", "34.4597", "135.3680"),
    ("入れ替わりAED", "135.3700", "34.4610"),  # row 4: latitude and longitude swapped
    ("位置なしAED", "", ""),  # row 5: an address, no coordinates
]


def versions(page: Page) -> int:
    return page.locator("#versions-h + .scroll tbody tr").count()


def open_fix(page: Page, row: int) -> None:
    page.locator(f"table.issues tr.error a[href$='/rows/{row}']").click()
    expect(page.locator("h1")).to_have_text(f"{row}行目を直す")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_clerk_fixes_several_rows_and_applies_them_as_one_version(
    browser: Browser, server, tmp_path, size
):
    base, _, settings = server
    login = f"{size}-fix@city.kishiwada.lg.jp"
    link = invitation(settings, login, "272027", "editor", "岸和田市 危機管理課")
    width = PHONE["width"] if size == "phone" else DESKTOP["width"]
    context = (
        phone(browser, bypass_csp=True)
        if size == "phone"
        else browser.new_context(locale="ja-JP", viewport=DESKTOP, bypass_csp=True)
    )
    clerk = context.new_page()
    choose_password_and_sign_in(clerk, f"{base}{link}", login)
    clerk.goto(f"{base}/staff/datasets/aed/272027")
    before = versions(clerk)
    upload = tmp_path / "aed.csv"
    upload.write_bytes(aed_csv([(f"{size}{n}", lat, lon) for n, lat, lon in ROWS]))
    clerk.set_input_files("#file", str(upload))
    clerk.get_by_role("button", name="読み込んで確認する").click()
    expect(clerk.locator("h1")).to_contain_text("確認結果", timeout=60_000)
    report = clerk.url
    expect(clerk.locator("table.issues tr.error")).to_have_count(2)

    open_fix(clerk, 4)  # the swapped pair: one button
    expect(clerk.locator(".row-facts")).to_contain_text(f"{size}入れ替わりAED")
    expect(clerk.locator(".row-facts")).to_contain_text("岸和田市岸城町7-1")
    clerk.get_by_role("button", name="緯度と経度を入れ替える").click()
    expect(clerk.locator(".notice")).to_contain_text("直す内容に加えました")
    expect(clerk.locator(".fix-queue li")).to_have_count(1)

    open_fix(clerk, 5)  # no coordinates: the town is offered in sight, the map takes a tap
    expect(clerk.locator(".fix-offer.town")).to_be_visible()
    expect(clerk.locator(".fix-offer.town")).to_contain_text("岸城町")
    expect(clerk.locator("#fix-map.leaflet-container")).to_be_attached()
    clerk.locator("#fix-map").click()
    expect(clerk.locator("#lat")).not_to_have_value("")
    clerk.select_option("#column", "名称")  # picked from the file's columns, its value filled in
    expect(clerk.locator("#value")).to_have_value(f"{size}位置なしAED")
    clerk.fill("#value", f"{size}岸和田市立図書館AED")
    clerk.get_by_role("button", name="直す内容に加える").click()
    expect(clerk.locator(".fix-queue li")).to_have_count(3)  # swap, position, name

    open_fix(clerk, 5)  # a slip: leaving the row out as well, taken back from the list
    clerk.check("input[name=drop]")
    clerk.get_by_role("button", name="直す内容に加える").click()
    expect(clerk.locator(".fix-queue li")).to_have_count(4)
    clerk.locator(".fix-queue li", has_text="行を除外").get_by_role("button").click()
    expect(clerk.locator(".fix-queue li")).to_have_count(3)

    open_fix(clerk, 5)  # the fix page with the list, as the clerk sees it
    expect(clerk.locator(".fix-queue")).to_contain_text("まとめて直す（3 件）")
    fits_the_screen(clerk, width)
    ARTEFACTS.mkdir(exist_ok=True)
    clerk.screenshot(path=str(ARTEFACTS / f"fix-rows-{size}-ja.png"), full_page=True)
    assert axe_violations(clerk) == []

    clerk.get_by_role("button", name="まとめて直す（3 件）").click()
    expect(clerk.locator(".notice")).to_contain_text("新しい版にしました")
    expect(clerk.locator("table.issues tr.error")).to_have_count(0)  # nothing left to fix
    expect(clerk.locator("table.edits tbody tr")).to_have_count(3)
    expect(clerk.locator(".fix-queue")).to_have_count(0)
    assert clerk.url != report
    clerk.goto(f"{base}/staff/datasets/aed/272027")
    assert versions(clerk) == before + 2  # the upload, and one version for all three fixes
