"""Viewer benchmark: every point layer on at z10 on a phone, against the first visit's layers.

Chromium at 390x844 (device scale 2, touch) with its CPU slowed 4x (Chrome's own "mid-tier
mobile" preset), on the demo data, base tiles blocked (they are GSI's, not ours). Two cases in
the same run, same server, same view over central Osaka at zoom 10:

- peer: the layers a first visit shows (the viewer's defaults);
- all points: every point layer that has data, switched on through the link.

Each case opens the link, waits until the layers are drawn, then pans six times and zooms in
and out once, the way a thumb does. Reported: time to the first drawn view, the tile bytes
fetched, frames during the gestures (p50/p95 interval) and main-thread long tasks (> 50 ms).
Goal: p95 frame interval of all points within 2x of the peer, no long task over 200 ms.
Run: `make bench` (or `python -m bench.viewer`).
"""

from __future__ import annotations

import json
import statistics
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from bench.common import print_table, scratch_database
from layers import GeometryType, load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.demo import load_demo
from tests.support.server import live_server

CHROMIUM = "/usr/bin/chromium"
CENTRE = "10/34.69000/135.50000"  # 大阪市 and its neighbours fill a phone's screen
CPU_SLOWDOWN = 4
ROUNDS = 3  # per case; the median round is reported

# Frame intervals and long tasks, recorded from the moment the gestures start.
RECORDER = """
window.__frames = []; window.__long = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__long.push(entry.duration);
}).observe({ type: "longtask", buffered: false });
let last = performance.now();
(function tick(now) { window.__frames.push(now - last); last = now; requestAnimationFrame(tick); })(last);
"""


def gestures(page: Page) -> None:
    """Six pans of a third of the screen, then a zoom in and out."""
    box = page.locator("#map").bounding_box()
    if box is None:
        raise RuntimeError("the map is not on the page")
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((120, 0), (0, 120), (-120, 0), (0, -120), (90, 90), (-90, -90)):
        page.mouse.move(cx, cy)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(cx + dx * step / 10, cy + dy * step / 10)
            page.wait_for_timeout(16)
        page.mouse.up()
        page.wait_for_timeout(300)
    for delta in (-240, 240):  # the wheel stands in for a pinch: the same zoom animation
        page.mouse.wheel(0, delta)
        page.wait_for_timeout(1200)


def run_case(base: str, layers: list[str] | None) -> dict[str, float]:
    """One visit: open the view (with ``layers`` switched on, or the defaults), then gesture."""
    fragment = f"#map={CENTRE}&lang=ja" + (f"&layers={','.join(layers)}" if layers else "")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="ja-JP",
        )
        context.route("https://cyberjapandata.gsi.go.jp/**", lambda route: route.abort())
        page = context.new_page()
        tile_bytes = [0]

        def count(response: Any) -> None:
            if "/api/tiles/" in response.url:
                tile_bytes[0] += int(response.headers.get("content-length") or 0)

        page.on("response", count)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(base + "/" + fragment)
        page.wait_for_selector("html[data-rendered=true]", state="attached", timeout=120_000)
        page.wait_for_load_state("networkidle")
        first_view = page.evaluate(
            "performance.getEntriesByName('mapsvc:layers-rendered')[0].startTime"
        )
        page.evaluate(RECORDER)
        gestures(page)
        page.wait_for_load_state("networkidle")
        frames: list[float] = page.evaluate("window.__frames.slice(1)")
        long_tasks: list[float] = page.evaluate("window.__long")
        browser.close()
    frames.sort()
    return {
        "first_view_ms": first_view,
        "tile_kb": tile_bytes[0] / 1000,
        "p50_frame_ms": statistics.median(frames),
        "p95_frame_ms": frames[int(len(frames) * 0.95)],
        "long_tasks": len(long_tasks),
        "longest_task_ms": max(long_tasks, default=0.0),
    }


def median_round(base: str, layers: list[str] | None) -> dict[str, float]:
    rounds = sorted(
        (run_case(base, layers) for _ in range(ROUNDS)), key=lambda r: r["p95_frame_ms"]
    )
    return rounds[len(rounds) // 2]


def main() -> None:
    """Print the viewer table."""
    catalog = load_catalog()
    with scratch_database() as (settings, engine):
        load_demo(make_sessionmaker(engine), catalog, settings.demo_manifest, settings)
        url = settings.database.url.get_secret_value()  # type: ignore[union-attr]
        with live_server(url) as base:
            listed = httpx.get(base + "/api/layers").json()["layers"]
            points = [
                entry["id"]
                for entry in listed
                if entry["numberPublished"]
                and catalog[entry["id"]].geometry_type is GeometryType.POINT
            ]
            peer = median_round(base, None)
            every = median_round(base, points)
    rows = []
    for key, unit in (
        ("first_view_ms", "ms"),
        ("tile_kb", "KB"),
        ("p50_frame_ms", "ms"),
        ("p95_frame_ms", "ms"),
        ("long_tasks", ""),
        ("longest_task_ms", "ms"),
    ):
        ratio = every[key] / peer[key] if peer[key] else float("nan")
        rows.append([key, f"{peer[key]:.0f} {unit}", f"{every[key]:.0f} {unit}", f"{ratio:.2f}x"])
    print_table(
        f"Viewer on a phone (CPU {CPU_SLOWDOWN}x slower), zoom 10: {len(points)} point layers "
        "on vs the first visit's layers",
        ["measure", "first visit's layers", "every point layer", "ratio"],
        rows,
    )
    print(json.dumps({"layers": points}, ensure_ascii=False))


if __name__ == "__main__":
    main()
