"""Abuse benchmark: normal reads while one anonymous client and one careless editor attack.

A steady stream of normal reads (varied bounding boxes, nearest, what-is-here, search: each one
a database query, not a cache hit) runs for the same time twice against one server on the demo
data: quiet, then while attackers run — slow-reading downloads (2 KB receive buffer, never
read), huge boxes in Web Mercator, malformed filters, and upload bombs sent with an editor's
key (a million shared strings, a GeoPackage view, 300,000 stop_times, 100,000 columns).
Each attacker runs at one client's pace (see ``attacks``); a flood at any speed is the proxy's
rate limit's to stop (deploy/). Goal: no normal request fails and their p99 stays within 2x of
the quiet run.
Run: `make bench` (or `python -m bench.abuse`).
"""

from __future__ import annotations

import multiprocessing
import random
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx

from bench.common import print_table, scratch_database
from layers import load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.demo import load_demo
from tests.support import bombs
from tests.support import variants as v
from tests.support.server import live_server, slow_reader
from tests.support.staging import committed_key

SECONDS = 20.0
MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"


def normal_reads(base: str, stop: threading.Event, rng: random.Random) -> tuple[list[float], int]:
    """Latencies (ms) and failures of a resident's reads, one after another, until ``stop``."""
    latencies: list[float] = []
    failures = 0
    with httpx.Client(base_url=base, timeout=10) as http:
        while not stop.is_set():
            lon, lat = rng.uniform(135.3, 135.6), rng.uniform(34.4, 34.8)
            request = rng.choice(
                [
                    (
                        "/api/collections/evacuation_sites/items",
                        {"bbox": f"{lon:.4f},{lat:.4f},{lon + 0.02:.4f},{lat + 0.02:.4f}"},
                    ),
                    (
                        "/api/nearest",
                        {"lon": f"{lon:.5f}", "lat": f"{lat:.5f}", "layer": "shelters"},
                    ),
                    ("/api/point", {"lon": f"{lon:.5f}", "lat": f"{lat:.5f}"}),
                    ("/api/search", {"q": rng.choice(["小学校", "公民館", "岸和田", "こうえん"])}),
                ]
            )
            start = time.perf_counter()
            try:
                ok = http.get(request[0], params=request[1]).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            failures += not ok
    return latencies, failures


def slow_readers(base: str, stop: threading.Event, seen: Counter[str]) -> None:
    """Keep six downloads open, read at 2 KB/s (reopened as the server cuts them)."""
    open_sockets: list[socket.socket] = []
    while not stop.is_set():
        while len(open_sockets) < 6:
            open_sockets.append(
                slow_reader(base, "/api/collections/evacuation_sites/download.geojson")
            )
            seen["slow download opened"] += 1
        time.sleep(1)
        for s in list(open_sockets):  # 2 KB a second each; a cut transfer ends in EOF
            s.setblocking(False)
            try:
                if s.recv(2048) == b"":
                    open_sockets.remove(s)
                    s.close()
                    seen["slow download cut by the server"] += 1
            except BlockingIOError:
                pass
    for s in open_sockets:
        s.close()


def repeat(
    send: Callable[[httpx.Client], httpx.Response], label: str, per_second: float
) -> Callable[..., None]:
    """An attacker sending ``send`` ``per_second`` times a second, counting the answers.

    Slower when the answers are slower: one client, one request at a time.
    """

    def attack(base: str, stop: threading.Event, seen: Counter[str]) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    seen[f"{label}: {send(http).status_code}"] += 1
                except httpx.HTTPError as exc:
                    seen[f"{label}: {type(exc).__name__}"] += 1
                stop.wait(max(0.0, 1 / per_second - (time.monotonic() - started)))

    return attack


def huge_box(http: httpx.Client) -> httpx.Response:
    return http.get(
        "/api/collections/evacuation_sites/items",
        params={"bbox": "-9.9e7,-9.9e7,9.9e7,9.9e7", "bbox-crs": MERCATOR},
    )


def bad_filter(http: httpx.Client) -> httpx.Response:
    wrong = random.choice(["name > 5", "geometry LIKE 'a'", "capacity = 'x'", "((((name"])  # noqa: S311
    return http.get("/api/collections/evacuation_sites/items", params={"filter": wrong})


def uploader(key: str) -> Callable[[httpx.Client], httpx.Response]:
    files = [
        ("aed.xlsx", bombs.xlsx_with_shared_strings(1_000_000)),
        ("aed.gpkg", bombs.gpkg_with_recursive_view(600_000)),
        ("feed.zip", bombs.gtfs_with_stop_times(300_000)),
        ("aed.csv", v.to_csv(["名称", "緯度", "経度", *(f"c{i}" for i in range(100_000))], [])),
    ]
    turn = iter(range(10**9))

    def send(http: httpx.Client) -> httpx.Response:
        name, data = files[next(turn) % len(files)]
        layer = "bus_stops" if name == "feed.zip" else "aed"
        return http.post(
            f"/api/datasets/{layer}/272027/versions",
            files={"file": (name, data)},
            headers={"Authorization": f"Bearer {key}"},
        )

    return send


def attacks(key: str) -> list[tuple[str, Callable[[httpx.Client], httpx.Response], float]]:
    """(label, request, per second): one client's worth of each, as a proxy would let through.

    Each was expensive before it was bounded (a projected box ran to the 15 s statement
    timeout; a bomb burnt 7-57 s of CPU); at these rates they would have taken the server down.
    """
    return [
        ("projected huge box", huge_box, 10),
        ("malformed filter", bad_filter, 10),
        ("upload bomb", uploader(key), 1),
    ]


def run_for(threads: list[threading.Thread], stop: threading.Event, seconds: float) -> None:
    """Start the threads, let them run ``seconds``, then stop and join them."""
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()


def attack(
    base: str, key: str, seconds: float, results: multiprocessing.Queue[dict[str, int]]
) -> None:
    """Every attacker at once for ``seconds``, counts into ``results``.

    In a process of its own: the reader's timings must not wait on the attackers' GIL.
    """
    stop, seen = threading.Event(), Counter[str]()
    attackers = [slow_readers, *(repeat(send, label, rate) for label, send, rate in attacks(key))]
    threads = [threading.Thread(target=a, args=(base, stop, seen)) for a in attackers]
    run_for(threads, stop, seconds)
    results.put(dict(seen))


SIGN_IN_FLOOD = 120  # clients at once, each its own "address" (the server's limits raised)


def sign_in_flood(
    base: str, seconds: float, results: multiprocessing.Queue[dict[str, int]]
) -> None:
    """SIGN_IN_FLOOD clients signing in with made-up logins as fast as answered, for ``seconds``.

    Each attempt costs the server an Argon2 hash (an unknown login is hashed as long as a known
    one), which is what the flood is after.
    """
    stop, seen = threading.Event(), Counter[str]()

    def token(page: httpx.Response) -> str:  # each sign-in page sets a new form token
        return page.text.split('name="csrf" value="', 1)[-1].split('"', 1)[0]

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            form = http.get("/staff/login")
            while not stop.is_set():
                try:
                    answer = form = http.post(
                        "/staff/login",
                        data={
                            "login": f"flood{i}-{time.monotonic_ns()}",
                            "password": "x" * 12,
                            "csrf": token(form),
                        },
                    )
                    seen[f"sign-in flood: {answer.status_code}"] += 1
                except httpx.HTTPError as exc:
                    seen[f"sign-in flood: {type(exc).__name__}"] += 1
                if "csrf" not in form.text:
                    form = http.get("/staff/login")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(SIGN_IN_FLOOD)]
    run_for(threads, stop, seconds)
    results.put(dict(seen))


def run(
    base: str, key: str | None, *, flood: bool = False
) -> tuple[list[float], int, Counter[str]]:
    """Normal reads for SECONDS: alone, while the attackers run (a key) or under a sign-in flood."""
    results: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
    attackers = None
    if key is not None or flood:
        target, args = (sign_in_flood, (base,)) if flood else (attack, (base, key))
        attackers = multiprocessing.Process(target=target, args=(*args, SECONDS + 2, results))
        attackers.start()
        time.sleep(2)  # bombs built and attackers in place before the measurement
    stop = threading.Event()
    threading.Timer(SECONDS, stop.set).start()
    latencies, failures = normal_reads(base, stop, random.Random(7))  # noqa: S311
    seen: Counter[str] = Counter(results.get() if attackers else {})
    if attackers:
        attackers.join()
    return latencies, failures, seen


def summary(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def main() -> None:
    """Print the abuse table."""
    with scratch_database() as (settings, engine):
        sessions = make_sessionmaker(engine)
        load_demo(sessions, load_catalog(), settings.demo_manifest, settings)
        key = committed_key(engine, "careless")
        url = settings.database.url.get_secret_value()  # type: ignore[union-attr]
        # The response cache off: every normal read queries PostGIS, as a cold cache would.
        # A short send timeout, so that slow readers are cut (and come back) during the run.
        with live_server(
            url,
            MAPSVC_API__RESPONSE_CACHE_MB="0",
            MAPSVC_API__DOWNLOAD_SEND_TIMEOUT_S="5",
            # The flood comes from everywhere: no address is paused by the sign-in limits.
            MAPSVC_STAFF__FAILURES_PER_ADDRESS="10000",
        ) as base:
            quiet, quiet_failures, _ = run(base, None)
            loud, loud_failures, seen = run(base, key)
            flooded, flooded_failures, flood_seen = run(base, None, flood=True)
    seen.update(flood_seen)
    (q50, q99), (l50, l99), (f50, f99) = summary(quiet), summary(loud), summary(flooded)
    print_table(
        f"Normal reads, {SECONDS:.0f} s each, sequential (one resident), cache off",
        ["run", "requests", "failed", "p50 ms", "p99 ms", "p99 vs quiet"],
        [
            ["quiet", str(len(quiet)), str(quiet_failures), f"{q50:.1f}", f"{q99:.1f}", "1.00x"],
            [
                "under attack",
                str(len(loud)),
                str(loud_failures),
                f"{l50:.1f}",
                f"{l99:.1f}",
                f"{l99 / q99:.2f}x",
            ],
            [
                f"under a sign-in flood ({SIGN_IN_FLOOD} at once)",
                str(len(flooded)),
                str(flooded_failures),
                f"{f50:.1f}",
                f"{f99:.1f}",
                f"{f99 / q99:.2f}x",
            ],
        ],
    )
    print_table(
        "What the attackers got",
        ["attack: answer", "count"],
        [[name, str(count)] for name, count in sorted(seen.items())],
    )
    print("goal: 0 failed, p99 within 2.00x of quiet")


if __name__ == "__main__":
    main()
