"""The column-mapping screen in Chromium, at phone size (390 × 844) and on a desktop.

The layer's Excel template, downloaded from the dataset page, needs no mapping at all. A clerk chooses a CP932 CSV whose coordinate headers no alias knows: the screen lists every
header with its drop-down (the known one chosen already) and the first rows; the clerk picks
the coordinates and leaves a column out, and the file imports with nothing typed as JSON. An
Excel workbook's sheet is chosen on the same screen. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import orjson
import pytest
from playwright.sync_api import Browser, expect

from tests.staff.test_mapping import OWN_HEADERS, OWN_ROWS, own_csv
from tests.support.browser import PHONE, axe_violations, phone
from tests.support.variants import xlsx_workbook
from tests.web.conftest import choose_password_and_sign_in, invitation
from tests.web.test_staff_clerk import DESKTOP, as_cards, fits_the_screen, shot

pytestmark = pytest.mark.db


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_clerk_maps_unknown_headers_with_drop_downs_and_the_file_imports(
    browser: Browser, server, tmp_path, size
):
    base, _, settings = server
    login = f"{size}-mapping@city.kishiwada.lg.jp"
    link = invitation(settings, login, "272027", "editor", "岸和田市 危機管理課")
    width = PHONE["width"] if size == "phone" else DESKTOP["width"]
    if size == "phone":
        context = phone(browser, bypass_csp=True)  # axe needs the page's CSP bypassed
    else:
        context = browser.new_context(locale="ja-JP", viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    choose_password_and_sign_in(page, f"{base}{link}", login)
    page.goto(f"{base}/staff/datasets/aed/272027")
    with page.expect_download() as download:  # the blank template, as a clerk starts one
        page.locator("p.templates").get_by_role("link", name="Excel").click()
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)
    page.set_input_files("#file", str(template))
    expect(page.locator("section.mapping")).to_contain_text("（記入例）名称")
    chosen = page.locator("select.mapping-choice").evaluate_all("s => s.map(c => c.value)")
    assert chosen and "" not in chosen  # every standard header is known: nothing to map

    upload = tmp_path / "aed.csv"
    upload.write_bytes(own_csv("cp932"))
    page.set_input_files("#file", str(upload))

    screen = page.locator("section.mapping")
    expect(screen).to_contain_text("列の対応")
    choice = {h: page.locator(f'select.mapping-choice[data-header="{h}"]') for h in OWN_HEADERS}
    expect(choice["施設名称"]).to_have_value("name")  # from the aliases
    expect(choice["北緯"]).to_have_value("")  # unknown: kept as it is
    expect(screen.locator(".preview-rows")).to_contain_text("天守閣入口")  # the first rows
    expect(screen).to_contain_text("cp932")
    choice["北緯"].select_option("latitude")
    choice["東経"].select_option("longitude")
    choice["設置場所メモ"].select_option(label="設置位置")
    choice["担当"].select_option(label="使わない")
    assert as_cards(page, "table.mapping-columns") == (size == "phone")
    fits_the_screen(page, width)
    shot(page, f"mapping-{size}-ja")
    assert axe_violations(page) == []
    # What goes with the upload is the one ``columns`` option the JSON box holds.
    sent = orjson.loads(page.locator("#columns").input_value())
    assert sent == {
        "施設名称": "name",
        "北緯": "latitude",
        "東経": "longitude",
        "設置場所メモ": "location_detail",
        "担当": "-",
    }
    page.get_by_role("button", name="読み込んで確認する").click()
    expect(page.locator("h1")).to_contain_text("確認結果", timeout=60_000)
    expect(page.locator("main")).to_contain_text(f"{len(OWN_ROWS)}")
    assert "/versions/" in page.url  # staged: the file was accepted

    page.goto(f"{base}/staff/datasets/aed/272027")
    book = tmp_path / "aed.xlsx"
    book.write_bytes(
        xlsx_workbook([("表紙", [["AED設置場所一覧"]]), ("一覧", [OWN_HEADERS, *OWN_ROWS])])
    )
    page.set_input_files("#file", str(book))
    sheet = page.locator("select.mapping-sheet")
    expect(sheet).to_have_value("表紙")
    sheet.select_option("一覧")
    expect(page.locator('select.mapping-choice[data-header="施設名称"]')).to_have_value("name")
    assert page.locator("#sheet").input_value() == "一覧"  # sent with the upload
    fits_the_screen(page, width)
    context.close()
