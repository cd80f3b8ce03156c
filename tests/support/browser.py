"""Debian's Chromium driven by Playwright: a phone-sized context, axe-core, the artefacts folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support.paths import PROJECT

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = PROJECT / "test-output"
AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium, as ./scripts/setup.sh installs it."""
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
        yield browser
        browser.close()


def phone(browser: Browser, **options: Any) -> BrowserContext:
    """A phone-sized context; GSI's base tiles are unreachable here, and the map must cope."""
    settings: dict[str, Any] = {
        "viewport": PHONE,
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "ja-JP",
    }
    context = browser.new_context(**(settings | options))
    context.route("https://cyberjapandata.gsi.go.jp/**", lambda route: route.abort())
    return context


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (the context must bypass CSP)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
