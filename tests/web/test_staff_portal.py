"""The staff portal in Chromium, as municipal staff and the prefecture's admin meet it.

A live server on a fresh database: the first admin comes from the CLI, everyone else from the
admin's pages. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import ARTEFACTS, axe_violations, phone
from tests.support.paths import TEST_DATA
from tests.support.portal import aed_csv
from tests.web.conftest import ADMIN, choose_password_and_sign_in, published_names

pytestmark = pytest.mark.db

STAFF = "bousai@city.kishiwada.lg.jp"
FIRST = [
    ("岸和田市役所AED", "34.4603", "135.3716"),
    ("岸和田城AED", "34.4597", "135.3680"),
    ("緯度の誤り", "北緯34度", "135.3700"),
]


def test_the_whole_journey_admin_invites_staff_upload_fix_publish_and_roll_back(
    browser: Browser, server, tmp_path
):
    base, admin_link, _ = server
    ARTEFACTS.mkdir(exist_ok=True)
    found: dict[str, list[dict[str, object]]] = {}

    admin = browser.new_context(locale="ja-JP", bypass_csp=True).new_page()  # a desktop
    choose_password_and_sign_in(admin, admin_link, ADMIN)
    expect(admin.locator("h1")).to_have_text("データ一覧")
    admin.get_by_role("link", name="アカウント", exact=True).click()
    admin.fill("#new-login", STAFF)
    admin.fill("#new-name", "岸和田市 危機管理課")
    admin.select_option("#new-municipality", "272027")
    admin.select_option("#new-role", "publisher")
    admin.get_by_role("button", name="作る", exact=True).click()
    staff_link = admin.locator("#one-time-link").input_value()
    assert "/staff/setup/" in staff_link
    found["accounts"] = axe_violations(admin)
    admin.get_by_role("link", name="APIキー（機械連携用）").click()
    admin.select_option("#key-municipality", "272027")
    admin.get_by_role("button", name="キーを作る").click()
    key = admin.locator("#new-key").input_value()
    assert key.startswith("msk_")
    found["keys"] = axe_violations(admin)
    admin.goto(f"{base}/staff/datasets/parks/271403")  # 堺市's park list has addresses only
    admin.set_input_files("#file", str(TEST_DATA / "sakai" / "271403_sakai_koen_ichiran.csv"))
    admin.click("summary")
    admin.check("input[name=town_positions]")
    admin.get_by_role("button", name="読み込んで確認する").click()
    expect(admin.locator("h1")).to_contain_text("確認結果", timeout=60_000)
    expect(admin.locator(".counts")).to_contain_text("1,192")
    expect(admin.locator("table.issues tr.warning").nth(1)).to_contain_text(
        "代表点です（おおよその位置）"
    )
    admin.screenshot(path=str(ARTEFACTS / "staff-desktop-sakai-town-positions-ja.png"))

    context = phone(browser, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    choose_password_and_sign_in(page, staff_link, STAFF)
    expect(page.locator("#m-272027")).to_contain_text("岸和田市")
    expect(page.locator("tr.missing").first).to_contain_text("データ未公開")
    found["home"] = axe_violations(page)
    page.locator('a[href="/staff/datasets/aed/272027"]').click()
    expect(page.locator("h1")).to_contain_text("AED")
    found["dataset"] = axe_violations(page)
    upload = tmp_path / "aed.csv"
    upload.write_bytes(aed_csv(FIRST))  # as Excel saves it: CP932, CRLF
    page.set_input_files("#file", str(upload))
    page.click("summary")
    page.check("input[name=accept_partial]")
    page.get_by_role("button", name="読み込んで確認する").click()
    expect(page.locator("h1")).to_contain_text("確認結果", timeout=30_000)
    error_row = page.locator("table.issues tr.error").first
    expect(error_row).to_contain_text("北緯34度")
    expect(error_row.locator("td").nth(1)).to_have_text("4")  # the row as Excel numbers it
    page.screenshot(path=str(ARTEFACTS / "staff-phone-upload-report-ja.png"), full_page=True)
    found["report"] = axe_violations(page)
    page.get_by_role("link", name=re.compile("^誤りだけ")).click()
    expect(page.locator("table.issues tr.warning")).to_have_count(0)

    page.locator("table.issues tr.error a", has_text="直す").first.click()  # fix it on the map
    expect(page.locator("h1")).to_have_text("4行目を直す")
    expect(page.locator("#fix-map .leaflet-container, #fix-map.leaflet-container")).to_be_attached()
    page.locator("#fix-map").click()
    expect(page.locator("#lat")).not_to_have_value("")
    page.screenshot(path=str(ARTEFACTS / "staff-phone-fix-map-ja.png"), full_page=True)
    found["fix"] = axe_violations(page)
    page.get_by_role("button", name="直す内容に加える").click()
    page.get_by_role("button", name="まとめて直す（1 件）").click()
    expect(page.locator(".notice")).to_contain_text("元のファイルはそのまま残っています")
    expect(page.locator("table.edits")).to_contain_text(f"staff:{STAFF}")
    expect(page.locator("table.issues tr.error")).to_have_count(0)  # nothing left to fix

    page.get_by_role("link", name="公開する", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("公開地図にすぐ表示されます")
    page.get_by_role("button", name="はい、公開します").click()
    expect(page.locator(".notice")).to_contain_text("公開しました")
    first_version = page.url.split("/versions/")[1].split("?")[0]  # the id, in URLs
    first_number = page.locator("h1").inner_text().split("版 ")[1].split()[0]  # what people read
    assert "岸和田城AED" in published_names(base, "岸和田城AED")

    viewer = context.new_page()  # the public map shows it at once
    viewer.goto(base + "/")
    viewer.click("#tab-search")
    viewer.fill("#search-input", "岸和田城AED")
    viewer.press("#search-input", "Enter")
    expect(viewer.locator("#search-results .entry").first).to_contain_text("岸和田城AED")
    viewer.close()

    page.goto(f"{base}/staff/datasets/aed/272027")
    upload.write_bytes(aed_csv(FIRST[:1]))
    page.set_input_files("#file", str(upload))
    page.get_by_role("button", name="読み込んで確認する").click()
    expect(page.locator("h1")).to_contain_text("確認結果", timeout=30_000)
    page.get_by_role("link", name="地図で確認").click()  # what publishing this would change
    expect(page.locator("#version-map[data-drawn='3']")).to_be_attached()  # 1 kept, 2 removed
    expect(page.locator("ul.diff.removed")).to_contain_text("岸和田城AED")
    page.screenshot(path=str(ARTEFACTS / "staff-phone-diff-map-ja.png"), full_page=True)
    served = page.request.get(page.url).text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", served)  # no inline script, even with a map
    found["map"] = axe_violations(page)
    page.go_back()
    page.get_by_role("link", name="公開する", exact=True).click()
    page.get_by_role("button", name="はい、公開します").click()
    expect(page.locator(".notice")).to_contain_text("公開しました")
    assert "岸和田城AED" not in published_names(base, "岸和田城AED")
    page.goto(f"{base}/staff/datasets/aed/272027/versions/{first_version}")
    # Linked by its (global) id, named by its number within the dataset.
    number = re.search(r"版 (\d+)", page.locator("h1").inner_text())
    assert number is not None
    page.get_by_role("link", name="この版に戻す").click()
    page.get_by_role("button", name="はい、戻します").click()
    expect(page.locator(".notice")).to_contain_text(f"版 {first_number} に戻しました")
    assert "岸和田城AED" in published_names(base, "岸和田城AED")
    page.goto(f"{base}/staff/?lang=en")
    expect(page.locator("h1")).to_have_text("My datasets")
    page.screenshot(path=str(ARTEFACTS / "staff-phone-my-datasets-en.png"), full_page=True)
    found["home_en"] = axe_violations(page)
    assert errors == [], errors
    context.close()

    admin.goto(f"{base}/staff/admin/audit?actor=staff:{STAFF}")
    for action in ("ログイン", "アップロード", "公開", "前の版に戻す"):  # in words
        expect(admin.locator("table.audit")).to_contain_text(action)
    found["audit"] = axe_violations(admin)
    summary = {view: [(v["id"], v["impact"]) for v in vs] for view, vs in found.items()}
    assert all(not vs for vs in found.values()), {k: v for k, v in summary.items() if v}


def test_a_phone_sized_page_has_no_sideways_scrolling_and_no_inline_script(browser, server):
    base, _, _ = server
    context = phone(browser, viewport={"width": 360, "height": 740})
    page = context.new_page()
    response = page.goto(f"{base}/staff/login")
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.content())  # every script is a file
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    context.close()
