"""The viewer in a real browser (Debian's Chromium driven by Playwright), at phone size."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.server import live_server

pytestmark = pytest.mark.db

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(__file__).parents[1] / "test-output"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def base_url(test_settings, demo):
    with live_server(test_settings.database.url.get_secret_value()) as base:
        yield base


@pytest.fixture
def page(base_url):
    assert Path(CHROMIUM).exists(), "run ./scripts/setup.sh: it installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="ja-JP"
        )
        # Base-map tiles come from GSI; this machine has no internet: the map must cope without them.
        context.route("https://cyberjapandata.gsi.go.jp/**", lambda route: route.abort())
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(base_url + "/")
        yield page
        assert errors == [], errors
        browser.close()


def test_phone_view_shows_layers_boundaries_and_sites_in_japanese_then_english(page: Page):
    ARTEFACTS.mkdir(exist_ok=True)
    expect(page.locator("#app-title")).to_have_text("広域デジタルマップ")
    expect(page.locator("#layer-list input[type=checkbox]")).to_have_count(16)
    expect(page.locator("label[for=layer-evacuation_sites]")).to_have_text("指定緊急避難場所")
    expect(page.locator("#layer-evacuation_sites")).to_be_checked()
    expect(page.locator("#layer-aed")).to_be_disabled()  # in the catalog, nothing published yet
    # (wait_for_function would evaluate a string: the page's CSP forbids that, as it should)
    expect(
        page.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane path").first
    ).to_be_attached()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#attribution")).to_contain_text("国土地理院")
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-ja.png"))
    page.click("#lang")
    expect(page.locator("#app-title")).to_have_text("Wide-area digital map")
    expect(page.locator("label[for=layer-evacuation_sites]")).to_have_text(
        "Designated emergency evacuation sites"
    )
    expect(page).to_have_title("Wide-area digital map")
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-en.png"))


def test_tapping_the_map_says_what_is_here_without_a_false_safe(page: Page):
    expect(page.locator("#layer-list input[type=checkbox]")).to_have_count(16)
    page.uncheck("#layer-evacuation_sites")  # so the tap lands on the map, not on a site's marker
    box = page.locator("#map").bounding_box()
    with page.expect_response(lambda r: "/api/point" in r.url):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # 135.52, 34.62
    here = page.locator("#here")
    expect(here.locator(".place")).to_contain_text("大阪市")
    expect(here.locator(".hazard.no_data").first).to_contain_text("安全という意味ではありません")


def test_layers_toggle_on_and_off(page: Page):
    expect(page.locator("#layer-list input[type=checkbox]")).to_have_count(16)
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: "/api/collections/shelters/items" in r.url) as response:
        page.check("#layer-shelters")
    assert response.value.status == 200
    page.uncheck("#layer-shelters")
    expect(page.locator("#layer-shelters")).not_to_be_checked()
