"""The viewer in a real browser (Debian's Chromium driven by Playwright), at phone size.

The viewer's database holds the demo plus two files an Osaka City editor could upload: AEDs whose
properties are HTML and script (they must stay text), with one on a fire engine and one open on
weekdays only, and flood zones (hazard tiles and legend).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import shapely.geometry
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from mapsvc.db.engine import drop_database
from tests.support.browser import ARTEFACTS, axe_violations, chromium, phone
from tests.support.cli import run_mapsvc
from tests.support.paths import DEMO, PROJECT, TEST_DATA
from tests.support.proxy import nginx_proxy
from tests.support.server import live_server
from tests.support.tiles import stand_in_tiles

pytestmark = pytest.mark.db

DATA = TEST_DATA / "viewer"
OSAKA_CITY = "271004"
UMEDA = (135.4980, 34.7025)  # the hostile AED
NAKANOSHIMA = (135.5023, 34.6937)  # beside the test AEDs on a fire engine and open by day
SUMINOE = (135.4783, 34.6227)  # 北加賀屋二丁目's representative point is beside it
FLOOD_FILE = "plateau_27100_osaka_city_bldg_river_flood_risk.geojson"
# Chrome DevTools' "Fast 3G" preset, as Chromium's network emulation takes it.
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 180_000,
    "uploadThroughput": 84_375,
}
BUDGET_BYTES = 250_000
# Asked again every second by design (web/js/live.js: disaster modes and open sites); their
# bytes still count in the budget.
POLLED = ("/api/emergencies?", "/api/collections/shelter_status/items?")


def polled(url: str) -> bool:
    return any(path in url for path in POLLED)


# How many pixels the map's tile canvases have painted (not transparent).
PAINTED_PIXELS = """() => [...document.querySelectorAll('canvas.leaflet-tile')].reduce((sum, c) => {
  const alpha = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < alpha.length; i += 4) if (alpha[i] > 0) painted += 1;
  return sum + painted;
}, 0)"""


@pytest.fixture(scope="module")
def viewer_database(templates) -> Iterator[str]:
    """The demo and the test files, published: the database URL."""
    settings, name = templates.copy(templates.demo)
    try:
        for args in (
            (
                "import",
                "--layer",
                "aed",
                "--municipality",
                OSAKA_CITY,
                "--publish",
                str(DATA / "hostile_aed.geojson"),
            ),
            (
                "import",
                "--layer",
                "flood_hazard",
                "--municipality",
                OSAKA_CITY,
                "--publish",
                str(DATA / "flood_zones.geojson"),
            ),
        ):
            done = run_mapsvc(*args, settings=settings)
            assert done.returncode == 0, done.stdout + done.stderr
        yield settings.database.url.get_secret_value()
    finally:
        drop_database(templates.server_url, name)


@pytest.fixture(scope="module")
def base_url(viewer_database: str) -> Iterator[str]:
    with live_server(viewer_database) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def open_viewer(context: BrowserContext, url: str) -> tuple[Page, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    expect(page.locator("html[data-rendered=true]")).to_be_attached(timeout=20_000)
    return page, errors


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = phone(browser)
    page, errors = open_viewer(context, base_url + "/")
    yield page
    assert errors == [], errors
    context.close()


def tap_map_at(page: Page, lon: float, lat: float) -> None:
    """Tap where (lon, lat) is: the map is centred on it by a permalink first."""
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def visit(page: Page, base_url: str, fragment: str) -> None:
    page.goto(f"{base_url}/#{fragment}")
    page.reload()  # a new fragment alone does not reload the page
    expect(page.locator("html[data-rendered=true]")).to_be_attached(timeout=20_000)


def test_phone_view_shows_layers_boundaries_and_sites_in_japanese_then_english(page: Page):
    ARTEFACTS.mkdir(exist_ok=True)
    expect(page.locator("#app-title")).to_have_text("広域デジタルマップ")
    expect(page.locator("#layer-list input[id^=layer-]")).to_have_count(24)
    expect(page.locator("#layer-list input[id^=overlay-]")).to_have_count(4)
    expect(page.locator("label[for=layer-evacuation_sites]")).to_have_text("指定緊急避難場所")
    expect(page.locator("#layer-evacuation_sites")).to_be_checked()
    expect(page.locator("#layer-bus_routes")).to_be_disabled()  # in the catalog, nothing published
    expect(page.locator("#layer-bus_routes + .swatch + label + .count")).to_have_text(
        "データ未公開"
    )
    expect(page.locator("#layer-parks + .swatch + label + .count")).to_have_text("1,141")
    expect(page.locator(".leaflet-tile-container canvas").first).to_be_attached()
    expect(page.locator("#attribution")).to_contain_text("国土地理院")
    expect(page.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "拡大")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-ja.png"))
    page.click("#lang")
    expect(page.locator("#app-title")).to_have_text("Wide-area digital map")
    expect(page.locator("label[for=layer-evacuation_sites]")).to_have_text(
        "Designated emergency evacuation sites"
    )
    expect(page.locator("#tab-list")).to_have_text("List")
    expect(page.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "Zoom in")
    expect(page.locator(".leaflet-control-layers-toggle")).to_have_attribute(
        "aria-label", "Base map"
    )
    expect(page).to_have_title("Wide-area digital map")
    expect(page).to_have_url(re.compile(r"lang=en"))
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-en.png"))


def test_tapping_the_map_says_what_is_here_without_a_false_safe(page: Page, base_url: str):
    visit(
        page, base_url, "map=14/34.62/135.52&layers=flood_hazard&lang=ja"
    )  # inside the test flood zone
    with page.expect_response(lambda r: "/api/point" in r.url):
        tap_map_at(page, 135.52, 34.62)
    here = page.locator("#here")
    expect(here.locator(".place")).to_contain_text("大阪市")
    expect(here.locator(".hazard.inside")).to_contain_text(
        "3.0〜5.0m"
    )  # the deeper class of the two
    expect(here.locator(".hazard.no_data").first).to_contain_text("安全という意味ではありません")
    expect(here.locator(".nearest-site a.route")).to_have_attribute(
        "href", re.compile(r"^https://www\.google\.com/maps/dir/")
    )
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-what-is-here.png"))


def test_tapping_a_building_in_suminoe_says_its_depths_and_where_to_go(page: Page, base_url: str):
    """PLATEAU's depth per building: the answer names the classes and the nearest flood site."""
    flood = json.loads((DEMO / "plateau" / FLOOD_FILE).read_text("utf-8"))["features"]
    building = next(f for f in flood if f["properties"]["city"] == "27125")  # 住之江区
    spot = shapely.geometry.shape(building["geometry"]).representative_point()
    for lang, words in (
        ("ja", ("この建物は", "計画規模", "想定最大規模", "立退き避難")),
        ("en", ("this building", "Planned scale", "Maximum scale", "evacuate")),
    ):
        visit(
            page,
            base_url,
            f"map=18/{spot.y:.6f}/{spot.x:.6f}&layers=building_flood_depth&lang={lang}",
        )
        with page.expect_response(lambda r: "/api/point" in r.url):
            tap_map_at(page, spot.x, spot.y)
        answer = page.locator("#here .hazard.inside").first
        for word in words:
            expect(answer).to_contain_text(word)
        expect(page.locator("#here .nearest-site").first).to_be_visible()
        page.screenshot(path=str(ARTEFACTS / f"viewer-phone-building-depth-{lang}.png"))


def test_a_tap_on_a_suminoe_street_asks_for_a_building_and_never_reads_outside(
    page: Page, base_url: str
):
    """Off a building the per-building layers say so: beside "no data" lines, "区域外" reads as safe."""
    lon, lat = 135.47, 34.61
    visit(page, base_url, f"map=18/{lat}/{lon}&layers=building_tsunami_storm_surge_depth&lang=ja")
    with page.expect_response(lambda r: "/api/point" in r.url):
        tap_map_at(page, lon, lat)
    here = page.locator("#here")
    expect(here.locator(".place")).to_have_text("大阪市住之江区")
    expect(here.locator(".hazard.no_building")).to_have_count(2)
    expect(here.locator(".hazard.no_building").first).to_contain_text(
        "この地点には建物のデータがありません。建物をタップしてください"
    )
    # The one "outside" is the test flood zones' own (published for Osaka City, not here).
    expect(here.locator(".hazard", has_text="区域外")).to_have_text(
        ["洪水浸水想定区域の区域外です"]
    )
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-suminoe-street.png"), full_page=True)


def test_the_storm_surge_building_gets_surge_advice_its_depth_and_no_site_here(
    page: Page, base_url: str
):
    """高潮 3-5 m first, with its exact depth and advice; Osaka City designates no surge site."""
    lon, lat = 135.46142, 34.60824
    for lang, words in (
        (
            "ja",
            (
                "高潮 3.0〜5.0m（3.68m）",
                "広域避難",
                "大阪市は高潮の指定緊急避難場所を指定していません",
                "堺市の三宝小学校",
            ),
        ),
        (
            "en",
            (
                "Storm surge: 3 to 5 m (3.68 m)",
                "wide-area evacuation",
                "Osaka-shi designates no evacuation site for storm surge",
                "Sakai-shi",
            ),
        ),
    ):
        visit(
            page,
            base_url,
            f"map=18/{lat}/{lon}&layers=building_tsunami_storm_surge_depth&lang={lang}",
        )
        with page.expect_response(lambda r: "/api/point" in r.url):
            tap_map_at(page, lon, lat)
        surge = page.locator("#here .hazard.inside .scenario").filter(has_text=words[0])
        for word in words:
            expect(surge).to_contain_text(word)
        expect(surge.locator(".no-site-here a.route")).to_be_visible()
        surge.scroll_into_view_if_needed()
        page.screenshot(
            path=str(ARTEFACTS / f"viewer-phone-surge-building-{lang}.png"), full_page=True
        )


def test_coverage_is_visible_in_the_panel_the_answer_and_its_own_page(page: Page, base_url: str):
    expect(page.locator("#layer-parks ~ .coverage")).to_have_text("大阪市のみ")
    # Parks are 大阪市's only: a tap in 岸和田市 says so instead of showing an empty map.
    visit(page, base_url, "map=15/34.4603/135.3716&layers=parks,evacuation_sites&lang=ja")
    with page.expect_response(lambda r: "/api/point" in r.url):
        tap_map_at(page, 135.3716, 34.4603)
    expect(page.locator("#here .not-published")).to_have_text(
        "公園: この市町村はまだ公開していません"
    )
    # Who publishes, by name where they are few; on the coverage page, per hazard.
    expect(page.locator("#layer-aed ~ .coverage")).to_have_text("大阪市・貝塚市・富田林市のみ")
    page.goto(f"{base_url}/coverage/?lang=en")
    expect(page.locator("#hazards li", has_text="Flood inundation")).to_contain_text("Osaka-shi")
    expect(page.locator("#hazards")).to_contain_text("National reference maps")
    expect(page.locator("#matrix tbody tr")).to_have_count(44)
    row = page.locator("#matrix tbody tr", has_text="Osaka-shi").first
    expect(row).to_contain_text("1,141")
    expect(page.locator("#title")).to_have_text("What each municipality publishes")
    page.screenshot(path=str(ARTEFACTS / "coverage-phone-en.png"))


def test_layers_toggle_with_a_legend_for_hazard_classes(page: Page):
    page.click("#tab-layers")
    expect(page.locator(".legend")).to_have_count(0)
    with page.expect_response(
        lambda r: "/api/tiles/" in r.url and "flood_hazard" in r.url
    ) as response:
        page.check("#layer-flood_hazard")
    assert response.value.status in (200, 204)
    expect(page.locator("#layer-flood_hazard")).to_be_focused()  # the panel redraw keeps focus
    legend = page.locator(".legend li")
    expect(legend).to_have_count(6)
    expect(legend.nth(1)).to_have_text("0.5〜3.0m")
    expect(page).to_have_url(re.compile(r"layers=[a-z_,]*flood_hazard"))
    page.uncheck("#layer-flood_hazard")
    expect(page.locator(".legend")).to_have_count(0)


def test_a_popup_shows_hostile_properties_as_inert_text(page: Page, base_url: str):
    visit(page, base_url, f"map=17/{UMEDA[1]}/{UMEDA[0]}&layers=aed&lang=ja")
    with page.expect_response(lambda r: "/api/nearest" in r.url):
        tap_map_at(page, *UMEDA)
    popup = page.locator(".leaflet-popup-content")
    expect(popup.locator("h3")).to_have_text('<img src=x onerror="window.pwned=1">梅田ＡＥＤ')
    expect(popup).to_contain_text("<script>window.pwned=2</script>大阪市北区梅田１丁目")
    expect(popup.locator("a[href^='tel:']")).to_have_attribute("href", "tel:0600000000")
    expect(popup).to_contain_text("ライセンス")
    expect(popup).to_contain_text("更新日")
    expect(popup).to_contain_text("提供: 大阪市")  # who published this feature
    for tag in ("img", "script", "iframe", "b"):
        expect(page.locator(f".leaflet-popup-content {tag}, #detail {tag}")).to_have_count(0)
    assert page.evaluate("() => window.pwned") is None
    expect(page).to_have_url(re.compile(r"feature=aed/271004-"))


def test_search_ignores_character_width_and_jumps_to_a_ward(page: Page):
    page.click("#tab-search")
    page.fill("#search-input", "梅田AED")  # half-width; the data says ＡＥＤ
    page.press("#search-input", "Enter")
    hit = page.locator("#search-results .entry").first
    expect(hit).to_contain_text("梅田ＡＥＤ")
    hit.click()
    expect(page.locator(".leaflet-popup-content h3")).to_contain_text("梅田ＡＥＤ")
    page.click("#tab-search")
    page.fill("#search-input", "ｷﾀｸ")  # half-width katakana finds itself, and 北区 finds wards
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results .entry").first).to_contain_text("ｷﾀｸ ｾﾝﾀｰ AED")
    page.fill("#search-input", "北区")
    page.press("#search-input", "Enter")
    ward = page.locator("#search-results .places .entry", has_text="大阪市北区")
    ward.click()
    expect(page).to_have_url(re.compile(r"map=1[2-4]/34\.[67]"))


def test_list_view_is_sorted_by_distance_and_works_with_the_keyboard(page: Page, base_url: str):
    visit(page, base_url, "map=15/34.6937/135.5023&layers=evacuation_sites,shelters&lang=ja")
    page.click("#tab-list")
    entries = page.locator("#list .entry")
    expect(entries.first).to_be_visible()
    texts = page.locator("#list .entry-distance").all_inner_texts()
    distances = [_metres(text) for text in texts]
    assert len(distances) >= 5 and distances == sorted(distances)
    nearest_name = entries.first.locator(".entry-name").inner_text()
    page.select_option("#sort", "name")
    expect(entries.first.locator(".entry-name")).not_to_have_text(nearest_name)
    page.select_option("#sort", "distance")
    expect(page.locator("#list .entry-distance").first).to_have_text(texts[0])
    entries.first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#detail .popup h3")).to_be_visible()
    expect(page.locator("#view-info")).to_be_visible()


def _metres(text: str) -> float:
    value, unit = text.split()
    return float(value) * (1000 if unit == "km" else 1)


def test_a_tap_while_offline_says_it_could_not_check_never_outside(page: Page, base_url: str):
    visit(page, base_url, "map=14/34.62/135.52&layers=flood_hazard&lang=ja")
    expect(page.locator("#layer-list input").first).to_be_attached()  # the panel has loaded
    page.context.set_offline(True)
    tap_map_at(page, 135.52, 34.62)
    here = page.locator("#here")
    expect(here.locator(".check-failed-reason")).to_have_text("確認できませんでした（オフライン）")
    expect(here).to_contain_text("安全かどうかは分かりません")
    expect(here).not_to_contain_text("対象区域の外")
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-offline-tap.png"))
    page.context.set_offline(False)
    with page.expect_response(lambda r: "/api/point" in r.url):
        here.locator("button.retry").click()
    expect(here.locator(".place")).to_contain_text("大阪市")
    expect(here.locator(".check-failed")).to_have_count(0)


def test_a_server_error_or_a_failed_search_is_not_an_answer(browser: Browser, base_url: str):
    context = phone(browser, service_workers="block")  # so that the page's routes see every request
    page, errors = open_viewer(context, base_url + "/#map=14/34.62/135.52&lang=en")
    page.route("**/api/point?*", lambda route: route.fulfill(status=500, body="{}"))
    tap_map_at(page, 135.52, 34.62)
    expect(page.locator("#here .check-failed-reason")).to_have_text(
        "Could not check (server error)"
    )
    expect(page.locator("#here")).not_to_contain_text("outside")
    page.route("**/api/search?*", lambda route: route.abort())
    page.click("#tab-search")
    page.fill("#search-input", "新北島8丁目")
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results .check-failed-reason")).to_have_text(
        "Could not check (offline)"
    )
    page.unroute("**/api/search?*")
    page.locator("#search-results button.retry").click()
    expect(page.locator("#search-results .address .entry")).to_contain_text("新北島八丁目")
    assert errors == [], errors
    context.close()


def test_an_answer_from_the_offline_cache_says_it_is_saved_and_from_when(
    browser: Browser, base_url: str
):
    context = phone(browser)
    page, errors = open_viewer(context, base_url + "/")
    expect(page.locator("html[data-offline-ready=true]")).to_be_attached(timeout=20_000)
    visit(page, base_url, "map=14/34.62/135.52&layers=flood_hazard&lang=ja")  # under the worker
    with page.expect_response(lambda r: "/api/point" in r.url):
        tap_map_at(page, 135.52, 34.62)
    expect(page.locator("#here .place")).to_contain_text("大阪市")
    expect(page.locator("#here .cached")).to_have_count(0)  # fresh: no mark
    context.set_offline(True)
    tap_map_at(page, 135.52, 34.62)  # the same spot: the worker has its answer
    expect(page.locator("#here .cached")).to_contain_text(
        re.compile(r"保存済みの回答です（\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}時点）")
    )
    expect(page.locator("#here .hazard.inside")).to_contain_text("3.0〜5.0m")
    assert errors == [], errors
    context.close()


def test_aeds_that_may_be_absent_are_marked_and_listed_after_the_others(
    browser: Browser, base_url: str
):
    lon, lat = NAKANOSHIMA
    context = phone(
        browser, geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"]
    )
    page, errors = open_viewer(context, base_url + "/")
    page.click("#locate")
    with page.expect_response(lambda r: "/api/nearest" in r.url and "layer=aed" in r.url):
        page.select_option("#nearest-choice", "aed")
    entries = page.locator("#nearest .entries li")
    expect(entries.nth(5)).to_be_attached()
    cautions = [e.locator(".entry-caution").count() > 0 for e in entries.all()]
    assert cautions[:5] == [False] * 5 and all(cautions[5:]), entries.all_inner_texts()
    engine = page.locator("#nearest .entry", has_text="中之島消防出張所")
    expect(engine.locator(".entry-caution")).to_contain_text(
        "消防車に積載（出動中は使用できません）"
    )
    by_day = page.locator("#nearest .entry", has_text="中之島会館")
    expect(by_day.locator(".entry-caution")).to_contain_text("曜日・時間が限られています")
    # Both are nearer than any AED that is always there, and still come after them.
    assert _metres(engine.locator(".entry-distance").inner_text()) < _metres(
        entries.first.locator(".entry-distance").inner_text()
    )
    engine.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.locator(".may-be-absent")).to_contain_text("消防車に積載")
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-aed-may-be-absent.png"))
    assert errors == [], errors
    context.close()


def test_an_address_shows_its_towns_answer_marked_approximate(page: Page):
    page.click("#tab-search")
    page.fill("#search-input", "大阪市住之江区北加賀屋２－１１－８")
    with page.expect_response(lambda r: "/api/point" in r.url):
        page.press("#search-input", "Enter")
    here = page.locator("#here")
    expect(here.locator(".town-level")).to_contain_text("大阪市住之江区 北加賀屋二丁目")
    expect(here.locator(".town-level")).to_contain_text("おおよその場所")
    expect(here.locator(".place")).to_contain_text("住之江区")
    expect(page).to_have_url(re.compile(r"map=1[5-8]/34\.62\d*/135\.47\d*"))
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-address.png"))
    # Ambiguous: the candidate towns, each answering when chosen.
    page.click("#tab-search")
    page.fill("#search-input", "本町1丁目")
    page.press("#search-input", "Enter")
    candidates = page.locator("#search-results .address .entry")
    expect(candidates.filter(has_text="八尾市 本町一丁目")).to_have_count(1)
    with page.expect_response(lambda r: "/api/point" in r.url):
        candidates.filter(has_text="八尾市 本町一丁目").click()
    expect(here.locator(".place")).to_contain_text("八尾市")
    expect(here.locator(".town-level")).to_contain_text("八尾市 本町一丁目")
    # Nothing found: said so, with the nearest spellings to try.
    page.click("#tab-search")
    page.fill("#search-input", "北加賀谷2-11-8")
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results .not-found")).to_contain_text(
        "この住所の町丁目は見つかりませんでした"
    )
    page.locator("#search-results button.suggestion", has_text="北加賀屋一丁目").click()
    expect(here.locator(".town-level")).to_contain_text("北加賀屋一丁目")


def test_permalink_round_trip_and_back_forward(browser: Browser, base_url: str):
    context = phone(browser)
    fragment = "map=14/34.69000/135.50000&base=std&layers=shelters,aed&lang=en"
    page, errors = open_viewer(context, f"{base_url}/#{fragment}")
    expect(page.locator("#app-title")).to_have_text("Wide-area digital map")
    page.click("#tab-layers")
    expect(page.locator("#layer-shelters")).to_be_checked()
    expect(page.locator("#layer-evacuation_sites")).not_to_be_checked()
    page.locator(".leaflet-control-layers").hover()
    expect(page.locator(".leaflet-control-layers-base input:checked + span")).to_have_text(
        " Standard map"
    )
    assert page.url.endswith(fragment)
    page.check("#layer-evacuation_sites")
    expect(page).to_have_url(re.compile(r"layers=shelters,aed,evacuation_sites"))
    page.go_back()
    expect(page.locator("#layer-evacuation_sites")).not_to_be_checked()
    page.go_forward()
    expect(page.locator("#layer-evacuation_sites")).to_be_checked()
    assert errors == [], errors
    context.close()


def test_nearest_from_my_location_with_distances_and_route_links(browser: Browser, base_url: str):
    context = phone(
        browser,
        geolocation={"longitude": 135.5023, "latitude": 34.6937},
        permissions=["geolocation"],
    )
    page, errors = open_viewer(context, base_url + "/")
    with page.expect_response(lambda r: "/api/nearest" in r.url and "flood=true" in r.url):
        page.click("#locate")
    entries = page.locator("#nearest .entries li")
    expect(entries).to_have_count(5)
    expect(page.locator("#nearest .hint")).to_contain_text("現在地")
    expect(entries.first.locator("a.route")).to_have_attribute(
        "href", re.compile(r"origin=34\.6937")
    )
    distances = [_metres(t) for t in page.locator("#nearest .entry-distance").all_inner_texts()]
    assert distances == sorted(distances) and distances[0] < 2000
    with page.expect_response(lambda r: "/api/nearest" in r.url and "layer=aed" in r.url):
        page.select_option("#nearest-choice", "aed")
    expect(page.locator("#nearest .entry-name").first).to_contain_text("梅田ＡＥＤ")
    assert errors == [], errors
    context.close()


def test_without_location_permission_nearest_comes_from_the_map(browser: Browser, base_url: str):
    context = phone(browser)  # no permission granted: the request is refused
    page, errors = open_viewer(context, base_url + "/")
    page.click("#locate")
    expect(page.locator("#status")).to_contain_text("現在地を取得できませんでした")
    expect(page.locator("#nearest .entries li")).to_have_count(5)
    expect(page.locator("#nearest .hint")).to_contain_text("地図の中心")
    assert errors == [], errors
    context.close()


def test_large_text_mode_is_remembered(page: Page):
    page.click("#text-size")
    expect(page.locator("html")).to_have_class(re.compile("large-text"))
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "20px"
    page.reload()
    expect(page.locator("#text-size")).to_have_attribute("aria-pressed", "true")


def test_a_reload_without_network_still_shows_the_map_and_its_data(browser: Browser, base_url: str):
    context = phone(browser)
    page, errors = open_viewer(context, base_url + "/")
    expect(page.locator("html[data-offline-ready=true]")).to_be_attached(timeout=20_000)
    page.reload()  # now under the service worker, which keeps what this view loads
    expect(page.locator("html[data-rendered=true]")).to_be_attached(timeout=20_000)
    page.wait_for_load_state("networkidle")
    context.set_offline(True)
    from_cache: list[str] = []
    page.on(
        "response", lambda r: from_cache.append(r.url) if r.from_service_worker and r.ok else None
    )
    page.reload()
    expect(page.locator("html[data-rendered=true]")).to_be_attached(timeout=20_000)
    expect(page.locator("#layer-list input[id^=layer-]")).to_have_count(24)
    expect(page.locator("#layer-evacuation_sites")).to_be_checked()
    assert any("/api/tiles/" in url for url in from_cache), from_cache
    assert any(url.endswith("/api/layers") for url in from_cache), from_cache
    expect(page.locator("#status")).to_contain_text("オフライン")
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-offline.png"))
    assert errors == [], errors
    context.close()


def test_accessibility_of_the_main_views_has_no_serious_violations(browser: Browser, base_url: str):
    context = phone(browser, bypass_csp=True)  # so that axe-core can be injected
    page, _ = open_viewer(context, base_url + "/")
    found = {"layers": axe_violations(page)}
    page.click("#tab-list")
    expect(page.locator("#list .entry, #list p").first).to_be_visible()
    found["list"] = axe_violations(page)
    page.click("#tab-search")
    page.fill("#search-input", "北区")
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results .entry").first).to_be_visible()
    found["search"] = axe_violations(page)
    tap_map_at(page, 135.52, 34.62)
    expect(page.locator("#here .place")).to_be_visible()
    found["info"] = axe_violations(page)
    page.click("#lang")
    found["english"] = axe_violations(page)
    summary = {
        view: [(v["id"], v["impact"], len(v["nodes"])) for v in vs] for view, vs in found.items()
    }
    assert all(not vs for vs in found.values()), summary
    context.close()


@pytest.fixture(scope="module")
def proxied_url(base_url: str) -> Iterator[str]:
    """The same server behind the shipped nginx (TLS, HTTP/2)."""
    with nginx_proxy(base_url.removeprefix("http://")) as proxy:
        yield proxy.url


@pytest.mark.parametrize("route", ["direct", "proxy"])
def test_first_visit_fits_the_transfer_budget_on_fast_3g(
    browser: Browser, route: str, request: pytest.FixtureRequest
):
    """Transfer is asserted (bytes are deterministic); the render time is recorded, not asserted:
    straight to the app over HTTP/1.1, and through the shipped proxy over HTTP/2 with TLS."""
    base_url: str = request.getfixturevalue("base_url" if route == "direct" else "proxied_url")
    # The proxy's certificate is made at test time: this browser is told to accept it.
    context = phone(browser, service_workers="block", ignore_https_errors=route == "proxy")
    page = context.new_page()
    unused_preloads: list[str] = []
    page.on("console", lambda m: unused_preloads.append(m.text) if "preload" in m.text else None)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(base_url + "/")
    expect(page.locator("html[data-rendered=true]")).to_be_attached(timeout=60_000)
    rendered_ms = page.evaluate(
        "() => performance.getEntriesByName('mapsvc:layers-rendered')[0].startTime"
    )
    page.wait_for_load_state("networkidle")
    ours = {urls[r]: n for r, n in sizes.items() if urls.get(r, "").startswith(base_url)}
    total = sum(ours.values())
    ARTEFACTS.mkdir(exist_ok=True)
    asked = Counter(u for u in urls.values() if u.startswith(base_url))
    report = {
        "fetched_twice": sorted(u for u, n in asked.items() if n > 1 and not polled(u)),
        "transfer_bytes": total,
        "rendered_ms": round(rendered_ms),
        "requests": len(ours),
        "files": ours,
    }
    protocols = page.evaluate(
        "() => [...new Set(performance.getEntriesByType('resource').map(e => e.nextHopProtocol))]"
    )
    report["protocols"] = protocols
    # When each file was asked for, began and finished arriving (ms): where the time went.
    report["timeline"] = page.evaluate(
        """() => performance.getEntriesByType('resource').map(e =>
             [e.name.replace(location.origin, ''), e.initiatorType,
              ...[e.startTime, e.responseStart, e.responseEnd].map(Math.round)])"""
    )
    (ARTEFACTS / f"viewer-budget-{route}.json").write_text(json.dumps(report, indent=1))
    if route == "proxy":
        # (An entry answered without the network, e.g. from memory, names no protocol.)
        assert "h2" in protocols and "http/1.1" not in protocols, protocols
    assert total <= BUDGET_BYTES, report
    # The page itself asked for exactly the first view's tiles (index.html), and the map used them.
    tiles = [(name, by) for name, by, *_ in report["timeline"] if name.startswith("/api/tiles/")]
    assert tiles and all(by == "link" for _, by in tiles), tiles
    assert report["fetched_twice"] == [] and not unused_preloads, (report, unused_preloads)
    # The demo layers really arrived: every tile answered, none failed.
    assert any("/api/tiles/" in url for url in ours)
    assert httpx.get(request.getfixturevalue("base_url") + "/api/layers").status_code == 200
    context.close()


def test_every_point_layer_at_z10_on_a_phone_draws_with_one_request_per_tile(
    browser: Browser, base_url: str
):
    """Smoothness is measured in `make bench` (bench.viewer); here, what makes it possible:
    one multi-layer request per tile position whatever the number of layers, points sharing a
    pixel sent once, and the view drawn without errors."""
    listed = httpx.get(base_url + "/api/layers").json()["layers"]
    points = [
        c["id"] for c in listed if c["numberPublished"] and c["layer"]["geometry_type"] == "point"
    ]
    assert len(points) >= 12  # the demo: every category
    context = phone(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    tiles: list[str] = []
    page.on("request", lambda r: tiles.append(r.url) if "/api/tiles/" in r.url else None)
    page.goto(f"{base_url}/#map=10/34.69000/135.50000&layers={','.join(points)}")
    expect(page.locator("html[data-rendered=true]")).to_be_attached(timeout=30_000)
    page.wait_for_load_state("networkidle")
    for layer in points:
        expect(page.locator(f"#layer-{layer}")).to_be_checked()
    positions = {re.search(r"/(\d+/\d+/\d+)\?", url).group(1) for url in tiles}  # type: ignore[union-attr]
    assert len(tiles) == len(positions) <= 12, (
        tiles
    )  # a phone's screen at z10: a dozen tiles at most
    assert all(set(points) <= set(url.split("collections=")[1].split(",")) for url in tiles)
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-every-point-layer-z10.png"))
    # Every point is drawn, not one per class and tile (display tiles send multipoints): 55,591
    # pixels painted here (56,618 with one feature per point at 4096 units); a few hundred if
    # the multipoints were not split.
    assert page.evaluate(PAINTED_PIXELS) > 20_000
    assert errors == [], errors
    context.close()


def test_a_shared_link_to_a_feature_opens_it_without_moving_the_view(
    browser: Browser, base_url: str
):
    context = phone(browser)
    page, errors = open_viewer(context, base_url + "/")
    hit = httpx.get(f"{base_url}/api/search", params={"q": "梅田ＡＥＤ"}).json()["features"][0]
    fragment = (
        f"map=16/{UMEDA[1]:.5f}/{UMEDA[0]:.5f}&base=pale&layers=aed&feature=aed/{hit['id']}&lang=ja"
    )
    visit(page, base_url, fragment)
    expect(page.locator(".leaflet-popup-content h3")).to_contain_text("梅田ＡＥＤ")
    expect(page.locator("#detail .popup h3")).to_contain_text("梅田ＡＥＤ")
    page.wait_for_timeout(800)  # past the 250 ms settle delay after which moves are recorded
    assert page.url.endswith(fragment), page.url
    assert errors == [], errors
    context.close()


def test_the_api_docs_page_lists_the_operations_from_our_own_assets(
    browser: Browser, base_url: str
):
    """/docs works offline and under the app's CSP: Swagger UI comes from the pinned npm package."""
    context = browser.new_context()
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(base_url + "/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=20_000)
    assert operations.count() > 15
    items = page.locator(".opblock-summary-path", has_text="/api/collections/{layer}/items")
    expect(items.first).to_be_visible()
    assert problems == [], problems  # no script error, no CSP refusal
    foreign = [u for u in requested if not u.startswith((base_url, "data:"))]
    assert foreign == [], foreign
    context.close()


def test_a_tile_refused_under_load_is_asked_again_not_left_blank(browser: Browser, base_url: str):
    """A crowd gets 503 + Retry-After from a busy server: the map asks for the tile again."""
    context = phone(browser, service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    asked: list[str] = []
    refused: list[str] = []

    def busy_once(route: Route) -> None:
        asked.append(route.request.url)
        if not refused:  # the first tile asked for, once
            refused.append(route.request.url)
            route.fulfill(status=503, headers={"Retry-After": "1"}, body="busy")
        else:
            route.continue_()

    page.route("**/api/tiles/**", busy_once)
    page.goto(base_url + "/")
    expect(page.locator("html[data-rendered=true]")).to_be_attached(timeout=20_000)
    assert refused and asked.count(refused[0]) == 2, asked  # refused, then answered
    assert page.evaluate(PAINTED_PIXELS) > 0 and errors == [], errors
    context.close()


@pytest.fixture(scope="module")
def overlay_server(
    viewer_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[str]]]:
    """The viewer with its national overlays' tiles on a loopback stand-in for GSI's server."""
    with stand_in_tiles() as (origin, asked):
        web = tmp_path_factory.mktemp("web") / "web"
        shutil.copytree(PROJECT / "web", web)
        config = json.loads((web / "config.json").read_text("utf-8"))
        for overlay in config["hazardOverlays"]:
            overlay["urls"] = [
                url.replace("https://disaportaldata.gsi.go.jp", origin) for url in overlay["urls"]
            ]
        (web / "config.json").write_text(json.dumps(config, ensure_ascii=False), "utf-8")
        with live_server(viewer_database, MAPSVC_WEB_DIR=str(web)) as base:
            yield base, asked


def test_national_hazard_maps_are_offered_as_reference_with_their_source(
    browser: Browser, overlay_server: tuple[str, list[str]]
):
    base, asked = overlay_server
    context = phone(browser)
    page, errors = open_viewer(context, base + "/#map=14/34.62/135.47&lang=ja")
    csp = httpx.get(base + "/").headers["content-security-policy"]
    national = page.locator("#layer-list .national")
    expect(national.locator("h2")).to_have_text("国の参考図（重ねるハザードマップ）")
    expect(national).to_contain_text("「この場所」の回答はこの図を読みません")
    expect(national.locator(".source a")).to_have_text("出典：ハザードマップポータルサイト")
    expect(national.locator("label")).to_have_count(4)
    assert asked == []  # nothing asked for until chosen
    page.check("#overlay-national_flood")
    loaded = page.locator("img.leaflet-tile-loaded[src*='01_flood_l2_shinsuishin_data']")
    expect(loaded.first).to_be_attached()
    assert any(p.startswith("/raster/01_flood_l2_shinsuishin_data/14/") for p in asked), asked
    # Admitted by the page's CSP (the stand-in's origin is named there, from config.json).
    tile_origin = page.evaluate(
        "() => new URL(document.querySelector('img.leaflet-tile-loaded').src).origin"
    )
    assert tile_origin in csp.split("img-src", 1)[1].split(";", 1)[0]
    expect(page.locator(".leaflet-control-attribution")).to_contain_text(
        "ハザードマップポータルサイト"
    )
    expect(page).to_have_url(re.compile(r"layers=[a-z_,]*national_flood"))
    page.check("#overlay-national_landslide")  # three maps under one switch
    for name in ("05_dosekiryukeikaikuiki", "05_kyukeishakeikaikuiki", "05_jisuberikeikaikuiki"):
        expect(page.locator(f"img.leaflet-tile-loaded[src*='{name}']").first).to_be_attached()
    page.uncheck("#overlay-national_flood")
    expect(page.locator("img[src*='01_flood_l2_shinsuishin_data']")).to_have_count(0)
    page.screenshot(path=str(ARTEFACTS / "viewer-phone-national-overlays.png"))
    # A shared link restores them.
    page.reload()
    expect(page.locator("#overlay-national_landslide")).to_be_checked()
    assert errors == [], errors
    context.close()
