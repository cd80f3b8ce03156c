"""Issue 29's browser test: in Chromium, a clerk of 岸和田市 points the AED list at a BODIK-style
CKAN catalogue (a loopback stand-in), tests it, saves it; the first fetch publishes and the
public map finds it. Then the catalogue breaks: what the clerk sees is screenshotted to
``test-output/harvest-<size>-source-broken.png`` (and ``…-home-failing.png``); the working
source page is ``…-source.png``. At phone size (390 × 844) and on a desktop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from mapsvc.db.engine import drop_database
from tests.support.browser import PHONE, axe_violations, phone
from tests.support.file_hosts import FileHost, Reply, file_host
from tests.support.server import live_server
from tests.web.conftest import choose_password_and_sign_in, invitation, published_names
from tests.web.test_staff_clerk import DESKTOP, fits_the_screen, shot

pytestmark = pytest.mark.db

KISHIWADA = "272027"
CATALOGUE_ID = "272027-aed"
STANDARD_TAG = "自治体標準ODS"
HEADER = (
    "全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,緯度,経度,設置位置"
)
AEDS = [
    ("岸和田市立図書館", "キシワダシリツトショカン", "岸和田市岸城町5-5", "34.4611", "135.3702"),
    (
        "岸和田市立総合体育館",
        "キシワダシリツソウゴウタイイクカン",
        "岸和田市西之内町",
        "34.4526",
        "135.3851",
    ),
]


def bodik_csv(prefix: str) -> bytes:
    """Kishiwada's AEDs as the standard data set's CSV, Shift_JIS with CRLF as most are."""
    rows = [
        f"{KISHIWADA},{i},岸和田市,{prefix}{name}AED,{kana},{address},{lat},{lon},1階入口"
        for i, (name, kana, address, lat, lon) in enumerate(AEDS, start=1)
    ]
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp932")


@pytest.fixture
def catalogue() -> Iterator[FileHost]:
    """A loopback CKAN catalogue shaped like BODIK ODCS (package_show, tags, resources)."""
    with file_host() as host:
        yield host


@pytest.fixture
def server(templates, catalogue):
    """A live server on a fresh database that may fetch from the loopback catalogue."""
    settings, name = templates.copy(templates.seeded)
    allowed = {
        "MAPSVC_HARVEST__ALLOW_NETWORKS": "127.0.0.0/8",
        "MAPSVC_HARVEST__ALLOW_HTTP_HOSTS": "127.0.0.1",
    }
    try:
        with live_server(settings.database.url.get_secret_value(), **allowed) as base:
            yield base, settings
    finally:
        drop_database(templates.server_url, name)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_clerk_adds_a_ckan_source_tests_saves_and_the_first_fetch_is_on_the_public_map(
    browser: Browser, server, catalogue: FileHost, size: str
):
    base, settings = server
    prefix = "端末" if size == "phone" else "机上"
    catalogue.file("/dataset/aed/272027_aed.csv", bodik_csv(prefix))
    catalogue.ckan_dataset(
        CATALOGUE_ID,
        [
            {
                "name": "AED設置箇所一覧",
                "format": "CSV",
                "url": f"{catalogue.base}/dataset/aed/272027_aed.csv",
            }
        ],
        tags=[STANDARD_TAG, "AED"],
    )
    login = f"{size}-kacho@city.kishiwada.lg.jp"
    link = invitation(settings, login, KISHIWADA, "publisher", "岸和田市 危機管理課長")
    width = PHONE["width"] if size == "phone" else DESKTOP["width"]
    if size == "phone":
        context = phone(browser, bypass_csp=True)  # axe needs the page's CSP bypassed
    else:
        context = browser.new_context(locale="ja-JP", viewport=DESKTOP, bypass_csp=True)
    clerk = context.new_page()
    choose_password_and_sign_in(clerk, f"{base}{link}", login)

    clerk.goto(f"{base}/staff/datasets/aed/{KISHIWADA}")
    clerk.get_by_role("link", name="取得元（自動取り込み）").click()
    expect(clerk.locator("h1")).to_contain_text("取得元")
    clerk.select_option("#kind", "ckan")
    clerk.fill("#url", catalogue.base)
    clerk.fill("#reference", CATALOGUE_ID)
    clerk.fill("#pick_format", "CSV")
    clerk.fill("#pick_tag", STANDARD_TAG)
    fits_the_screen(clerk, width)
    clerk.get_by_role("button", name="この取得元を試す").click()
    tested = clerk.locator("section.tested")
    expect(tested).to_contain_text("まだ保存していません", timeout=60_000)
    expect(tested).to_contain_text("272027_aed.csv から")
    expect(tested.locator(".counts dd").nth(0)).to_have_text("2")  # rows read
    expect(tested.locator(".counts dd").nth(1)).to_have_text("2")  # accepted
    assert f"{prefix}岸和田市立図書館AED" not in published_names(base, "岸和田市立図書館AED")
    expect(clerk.locator("#reference")).to_have_value(CATALOGUE_ID)  # the form is kept

    clerk.get_by_role("button", name="保存", exact=True).click()
    expect(clerk.locator(".notice[role=status]")).to_contain_text("取得元を保存しました")
    clerk.get_by_role("button", name="今すぐ取得").click()
    expect(clerk.locator(".notice[role=status]")).to_contain_text("取得しました", timeout=60_000)
    history = clerk.locator("table.history tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("公開した")
    expect(history.first).to_contain_text("200")
    expect(clerk.locator("section.health")).to_contain_text("問題なく取得できています")
    fits_the_screen(clerk, width)
    shot(clerk, f"harvest-{size}-source")
    assert axe_violations(clerk) == []

    resident = phone(browser).new_page()  # the public map finds what the first fetch published
    resident.goto(f"{base}/")
    resident.click("#tab-search")
    resident.fill("#search-input", f"{prefix}岸和田市立図書館")
    resident.press("#search-input", "Enter")
    hit = resident.locator("#search-results .entry").first
    expect(hit).to_contain_text(f"{prefix}岸和田市立図書館AED", timeout=30_000)
    hit.click()
    expect(resident.locator(".leaflet-popup-content h3")).to_contain_text("岸和田市立図書館AED")

    catalogue.plain("/api/3/action/package_show", Reply(503, b"maintenance"))  # it breaks
    for _ in range(3):
        clerk.get_by_role("button", name="今すぐ取得").click()
        expect(clerk.locator(".notice[role=status]")).to_contain_text("取得しました")
    health = clerk.locator("section.health")
    expect(health).to_contain_text("3 回続けて取得に失敗しています")
    expect(health).to_contain_text("公開元のサーバーがエラー（HTTP 503）を返しました")
    expect(health).to_contain_text("公開中のデータはそのまま残っています")
    expect(clerk.locator("table.history tbody tr.error")).to_have_count(3)
    fits_the_screen(clerk, width)
    shot(clerk, f"harvest-{size}-source-broken")
    assert axe_violations(clerk) == []
    assert f"{prefix}岸和田市立図書館AED" in published_names(base, "岸和田市立図書館AED")

    clerk.goto(f"{base}/staff/")
    notice = clerk.locator("section.requests li.harvest_failing")
    expect(notice).to_contain_text("取得が続けて失敗しています")
    expect(notice).to_contain_text("HTTP 503")
    fits_the_screen(clerk, width)
    shot(clerk, f"harvest-{size}-home-failing")
    assert axe_violations(clerk) == []
    context.close()
