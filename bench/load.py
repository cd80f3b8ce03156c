"""Load benchmark: disaster-day load through the shipped nginx against the app alone, and faults.

One machine, loopback only, the demo data; ``mapsvc serve --workers <cores>`` with the shipped
nginx (deploy/nginx, TLS) in front. wrk (HTTP/1.1 over TLS to nginx, plain HTTP to the app)
opens CONNECTIONS connections for SECONDS seconds on hot public URLs: display tiles of central
Osaka and items pages. Through the proxy the goal is ≥ 30,000 req/s with 0 errors; the app
alone must shed what it cannot take with 503 + Retry-After, never a 500 and never a hang.
During the proxied run something is published; the table says when it showed through nginx.
Faults, each bounded: kill -9 of one worker under load; the app stopped behind the proxy.
Run: `make bench` (or `python -m bench.load`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import print_table, scratch_database
from layers import load_catalog
from mapsvc.api.caching import SHARED_MAX_AGE_S
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.demo import load_demo
from tests.deploy.test_workers import publish_aeds
from tests.support.proxy import nginx_proxy
from tests.support.server import mapsvc_serve, worker_pids

CONNECTIONS = 1000
SECONDS = 10
# A request unanswered after this long counts as hung (the app's read deadline is 8 s).
CLIENT_TIMEOUT_S = 10
LUA = Path(__file__).with_name("load.lua")
POINT_LAYERS = "evacuation_sites,shelters,aed,schools"


# What load.lua sends: the proxy keeps one entry per encoding, so warm-up and checks ask alike.
AS_WRK = {"Accept-Encoding": "gzip"}


def require_tools(bench: str) -> None:
    """Stop with a clear word when the load client or the proxy is missing."""
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{bench} needs {tool} (Debian: apt-get install {tool})")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def hot_urls() -> list[str]:
    """What residents of central Osaka ask for at once: tiles at z13-14 and items pages."""
    urls = []
    for z in (13, 14):
        cx, cy = tile_of(135.50, 34.69, z)
        urls += [
            f"/api/tiles/WebMercatorQuad/{z}/{cy + dy}/{cx + dx}?collections={POINT_LAYERS}"
            for dx in (-2, -1, 0, 1, 2)
            for dy in (-2, -1, 0, 1)
        ]
    for i in range(10):
        lon, lat = 135.45 + i * 0.01, 34.65 + i * 0.005
        urls.append(
            f"/api/collections/evacuation_sites/items?bbox={lon:.3f},{lat:.3f},"
            f"{lon + 0.02:.3f},{lat + 0.02:.3f}&limit=50"
        )
    return urls


def wrk(base: str, urls: Path, *, connections: int = CONNECTIONS, seconds: int = SECONDS) -> dict:
    """One wrk run; its JSON summary line (see load.lua)."""
    done = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            f"{CLIENT_TIMEOUT_S}s",
            "-s",
            str(LUA),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, MAPSVC_URLS=str(urls)),
        timeout=seconds + 60,
    )
    summary: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


ERROR_KINDS = ("connect_errors", "read_errors", "write_errors", "timeouts")


def errors(run: dict) -> int:
    return sum(run[k] for k in ERROR_KINDS)


def error_text(run: dict) -> str:
    """``0``, or the count with its kinds (``174: timeouts 170, read 4``)."""
    kinds = [
        f"{k.removesuffix('_errors').removesuffix('s')} {run[k]}" for k in ERROR_KINDS if run[k]
    ]
    return f"{errors(run)}" + (f": {', '.join(kinds)}" if kinds else "")


def status_text(run: dict) -> str:
    return " ".join(f"{s}:{n}" for s, n in sorted(run["statuses"].items()))


def publish_visible_after(proxy, settings, engine, count: int) -> float:
    """Publish ``count`` AEDs for Kishiwada now; seconds until the proxy answers with them."""
    path = "/api/collections/aed/items?limit=5"
    with proxy.client() as http:
        before = http.get(path).json()["numberMatched"]
        published = time.monotonic()
        publish_aeds(settings, engine, count)
        while http.get(path).json()["numberMatched"] != before + count:
            if time.monotonic() - published > 60:
                return math.inf
            time.sleep(0.1)
        return time.monotonic() - published


def kill_a_worker_under_load(base: str, server, urls: Path) -> tuple[dict, float | None]:
    """Kill -9 one worker 3 s into a 10 s run of 50 connections straight to the app."""
    before = worker_pids(server)
    victim = min(before)
    outcome: dict[str, dict] = {}

    def load() -> None:
        outcome["run"] = wrk(base, urls, connections=50, seconds=10)

    runner = threading.Thread(target=load)
    runner.start()
    time.sleep(3)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    replaced = None
    while runner.is_alive() or replaced is None:
        now = worker_pids(server)
        if replaced is None and len(now) == len(before) and victim not in now:
            replaced = time.monotonic() - killed
        if time.monotonic() - killed > 30:
            break
        time.sleep(0.1)
    runner.join()
    return outcome["run"], replaced


def main() -> None:
    """Print the load table and the fault results."""
    require_tools("bench.load")
    results: list[list[str]] = []
    faults: list[list[str]] = []
    with scratch_database() as (settings, engine):
        load_demo(make_sessionmaker(engine), load_catalog(), settings.demo_manifest, settings)
        url = settings.database.url.get_secret_value()  # type: ignore[union-attr]
        urls = Path(tempfile.mkstemp(prefix="mapsvc-urls-", suffix=".txt")[1])
        urls.write_text("\n".join(hot_urls()) + "\n")
        workers = len(os.sched_getaffinity(0))
        log = Path(tempfile.mkstemp(prefix="mapsvc-serve-", suffix=".log")[1])
        with (
            mapsvc_serve(url, workers=workers, log=log, MAPSVC_TRUSTED_PROXIES="127.0.0.1") as (
                base,
                server,
            ),
            nginx_proxy(base.removeprefix("http://")) as proxy,
        ):
            with proxy.client() as http:  # warm the proxy's cache (and each worker's)
                for path in hot_urls():
                    http.get(path, headers=AS_WRK)
            visible: list[float] = []
            publisher = threading.Timer(
                3, lambda: visible.append(publish_visible_after(proxy, settings, engine, 3))
            )
            publisher.start()
            proxied = wrk(proxy.url, urls)
            publisher.join()
            direct = wrk(base, urls)
            killed_run, replaced = kill_a_worker_under_load(base, server, urls)

            # The app stops: nginx answers what it has (stale) and 502 for what it never saw.
            # (After it, a server with no response cache: every read a query, and shedding.)
            server.send_signal(signal.SIGTERM)
            server.wait(30)
            time.sleep(SHARED_MAX_AGE_S + 1.5)
            with proxy.client() as http:
                stale = [http.get(path, headers=AS_WRK) for path in hot_urls()]
        with mapsvc_serve(url, workers=workers, log=log, MAPSVC_API__RESPONSE_CACHE_MB="0") as (
            uncached_base,
            _,
        ):
            uncached = wrk(uncached_base, urls)
        for name, run in (
            ("through nginx (TLS)", proxied),
            ("app alone", direct),
            ("app alone, its response cache off", uncached),
        ):
            results.append(
                [
                    name,
                    f"{run['requests'] / run['seconds']:,.0f}",
                    error_text(run),
                    status_text(run),
                    str(run["503_without_retry_after"]),
                    f"{run['p50_ms']:.1f}",
                    f"{run['p99_ms']:.1f}",
                ]
            )
        ratio = (proxied["requests"] / proxied["seconds"]) / (
            direct["requests"] / direct["seconds"]
        )
        faults += [
            [
                "publish during the proxied run: visible through nginx after",
                f"{visible[0]:.1f} s (s-maxage {SHARED_MAX_AGE_S} s)" if visible else "never",
            ],
            [
                "kill -9 of one worker under load (50 connections, app alone)",
                f"{error_text(killed_run)} errors, statuses {status_text(killed_run)}, replaced after "
                f"{replaced:.1f} s"
                if replaced is not None
                else f"{error_text(killed_run)} errors, NOT replaced",
            ],
            [
                "app stopped behind nginx: hot URLs answered",
                f"{sum(r.status_code < 300 for r in stale)}/{len(stale)} (2xx, "
                f"{sum(r.headers.get('x-cache-status') == 'STALE' for r in stale)} marked STALE)",
            ],
        ]
        urls.unlink()
        log.unlink()
    print_table(
        f"Hot public reads, {CONNECTIONS} connections for {SECONDS} s (wrk, 2 threads), "
        f"{workers} workers",
        ["run", "req/s", "errors", "statuses", "503 w/o Retry-After", "p50 ms", "p99 ms"],
        results,
    )
    print(f"proxy vs app alone: {ratio:.1f}x the requests per second")
    print(
        "goal: through nginx >= 30,000 req/s with 0 errors; the app alone: only 2xx and 503 "
        f"(with Retry-After), no timeouts (client timeout {CLIENT_TIMEOUT_S} s)"
    )
    print_table("Faults", ["fault", "result"], faults)


if __name__ == "__main__":
    main()
