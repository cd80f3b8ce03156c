"""Disaster-day load: residents read nearest-open and shelter status while statuses change.

Everything goes through the shipped nginx, and every municipality changes statuses at once.

One machine, loopback only, the demo data; ``mapsvc serve --workers <cores>`` behind the shipped
nginx (deploy/nginx, TLS). wrk opens CONNECTIONS connections for SECONDS seconds on what residents
ask on the day: ``/api/nearest?open=true`` for evacuation sites per hazard at points across the
prefecture, and the ``shelter_status`` collection's items per municipality. Twice: quiet
(the peer), and while 43 writers (one per municipality, each with its own ``status`` key)
``PATCH`` one of their sites every second with ``If-Match``, alternating open and closed. Per
site a watcher polls the proxy for the site's status item and notes when each acknowledged
change first shows there: the time until a change is visible to a resident.
Run: `make bench` (or `python -m bench.disaster`).
"""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.common import print_table, scratch_database
from bench.load import error_text, require_tools, status_text, wrk
from layers import load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.demo import load_demo
from mapsvc.services.keys import create_key
from tests.support.proxy import Proxy, nginx_proxy
from tests.support.server import LIVE_SECRET, mapsvc_serve

CONNECTIONS = 1000
SECONDS = 10
WRITE_EVERY_S = 1.0
POLL_EVERY_S = 0.1
WRITE_TIMEOUT_S = 15
STATUS_ITEMS = "/api/collections/shelter_status/items"
HAZARDS = ("flood", "tsunami", "storm_surge", "landslide")


@dataclass
class Site:
    """One writer's site: its status item's path, its key, and its acknowledged changes."""

    municipality: str
    item: str
    key: str
    acknowledged: list[tuple[int, float]] = field(default_factory=list)  # (revision, when)
    visible_after: list[float] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)  # status code -> count
    write_ms: list[float] = field(default_factory=list)
    errors: int = 0


def sites_to_write(engine) -> list[Site]:
    """One published evacuation site per municipality, and a ``status`` key for each."""
    secret = LIVE_SECRET.encode()  # the served app's key secret (see mapsvc_serve)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            text(
                "SELECT DISTINCT ON (municipality_code) municipality_code, feature_key "
                "FROM published_feature WHERE layer_id = 'evacuation_sites' "
                "ORDER BY municipality_code, feature_key"
            )
        ).all()
        sites = []
        for code, key in rows:
            secret_key, _ = create_key(
                session, secret, municipality_code=code, role="status", label="bench", actor="bench"
            )
            item = f"{STATUS_ITEMS}/evacuation_sites:{code}-{key}"
            sites.append(Site(code, item, secret_key))
        session.commit()
    return sites


def reader_urls(engine) -> list[str]:
    """Nearest-open per hazard at each municipality's centre, and the status collection."""
    with make_sessionmaker(engine)() as session:
        centres = session.execute(
            text(
                "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(boundary) AS p "
                "FROM municipality WHERE kind <> 'prefecture') AS m ORDER BY code"
            )
        ).all()
    urls = [
        f"/api/nearest?layer=evacuation_sites&open=true&hazard={hazard}&lon={x:.4f}&lat={y:.4f}"
        for i, (_, x, y) in enumerate(centres)
        for hazard in HAZARDS[i % 2 :: 2]
    ]
    urls += [f"{STATUS_ITEMS}?municipality={code}" for code, _, _ in centres[::3]]
    return urls


def revision(etag: str | None) -> int:
    """The revision a status item's strong ETag names (``"<layer>:<site>:<mode>:<revision>"``)."""
    return int(etag.strip('"').rpartition(":")[2]) if etag else -1


def change_once(http: httpx.Client, site: Site, etag: str | None, status: str) -> str | None:
    """One change with If-Match (the current state read first where unknown); the new ETag.

    A refusal — 412: another state is current; 503: a busy app shed the request — is counted
    and leaves the state unknown, so the next try reads it again, as the board does. With a key,
    nginx never answers from its cache: what it returns is the current state.
    """
    began = time.monotonic()
    if etag is None:
        current = http.get(site.item)
        if current.status_code != 200:
            site.refused[current.status_code] = site.refused.get(current.status_code, 0) + 1
            return None
        etag = current.headers["etag"]
    answer = http.patch(site.item, json={"status": status}, headers={"If-Match": etag})
    site.write_ms.append((time.monotonic() - began) * 1000)
    if answer.status_code != 200:
        site.refused[answer.status_code] = site.refused.get(answer.status_code, 0) + 1
        return None
    new: str = answer.headers["etag"]
    site.acknowledged.append((revision(new), time.monotonic()))
    return new


def write(proxy: Proxy, site: Site, stop: threading.Event) -> None:
    """Change the site's status every second, open and closed in turn."""
    etag = None
    statuses = itertools.cycle(("open", "closed"))
    with proxy.client(
        headers={"Authorization": f"Bearer {site.key}"}, timeout=WRITE_TIMEOUT_S
    ) as http:
        while not stop.is_set():
            began = time.monotonic()
            try:
                etag = change_once(http, site, etag, next(statuses))
            except httpx.HTTPError:
                site.errors += 1
                etag = None
            stop.wait(max(0.0, WRITE_EVERY_S - (time.monotonic() - began)))


def watch(proxy: Proxy, site: Site, stop: threading.Event) -> None:
    """Poll the site's item through the proxy as a resident's app would (cached).

    An acknowledged change is visible once the proxy shows its revision or a later one (a change
    made over by the next one before the proxy showed it counts when the next one shows).
    """
    shown = 0  # how many of the acknowledged changes have shown
    with proxy.client(timeout=WRITE_TIMEOUT_S) as http:
        while not stop.is_set():
            try:
                now_showing = revision(http.get(site.item).headers.get("etag"))
            except httpx.HTTPError:
                now_showing = -1
            now = time.monotonic()
            acknowledged = list(site.acknowledged)
            while shown < len(acknowledged) and acknowledged[shown][0] <= now_showing:
                site.visible_after.append(now - acknowledged[shown][1])
                shown += 1
            stop.wait(POLL_EVERY_S)


def under_writes(proxy: Proxy, sites: list[Site], urls: Path) -> dict:
    """The wrk run with every writer and watcher going; after it, the changes' last showings."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=work, args=(proxy, site, stop), daemon=True)
        for site in sites
        for work in (write, watch)
    ]
    for thread in threads:
        thread.start()
    try:
        run = wrk(proxy.url, urls)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    return run


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    """Print the disaster-day table: quiet reads (the peer) against reads under 43 writers."""
    require_tools("bench.disaster")
    with scratch_database() as (settings, engine):
        load_demo(make_sessionmaker(engine), load_catalog(), settings.demo_manifest, settings)
        sites = sites_to_write(engine)
        url = settings.database.url.get_secret_value()  # type: ignore[union-attr]
        urls = Path(tempfile.mkstemp(prefix="mapsvc-urls-", suffix=".txt")[1])
        paths = reader_urls(engine)
        urls.write_text("\n".join(paths) + "\n")
        workers = len(os.sched_getaffinity(0))
        log = Path(tempfile.mkstemp(prefix="mapsvc-serve-", suffix=".log")[1])
        with (
            mapsvc_serve(url, workers=workers, log=log, MAPSVC_TRUSTED_PROXIES="127.0.0.1") as (
                base,
                _,
            ),
            nginx_proxy(base.removeprefix("http://")) as proxy,
        ):
            with proxy.client() as http:  # warm the proxy's cache as load.py does
                for path in paths:
                    http.get(path, headers={"Accept-Encoding": "gzip"})
            quiet = wrk(proxy.url, urls)
            busy = under_writes(proxy, sites, urls)
        urls.unlink()
        log.unlink()
    rows = [
        [
            name,
            f"{run['requests'] / run['seconds']:,.0f}",
            error_text(run),
            status_text(run),
            f"{run['p50_ms']:.1f}",
            f"{run['p99_ms']:.1f}",
        ]
        for name, run in (("quiet (peer)", quiet), ("43 writers, 1 change/s each", busy))
    ]
    print_table(
        f"Disaster day through nginx: {CONNECTIONS} connections for {SECONDS} s on nearest-open and "
        f"the status collection ({len(paths)} URLs), {workers} workers",
        ["run", "req/s", "reader errors", "statuses", "p50 ms", "p99 ms"],
        rows,
    )
    print(f"p99 under writes vs quiet: {busy['p99_ms'] / quiet['p99_ms']:.2f}x")
    acked = sum(len(s.acknowledged) for s in sites)
    visible = [v for s in sites for v in s.visible_after]
    refused: dict[int, int] = {}
    for site in sites:
        for status, count in site.refused.items():
            refused[status] = refused.get(status, 0) + count
    write_ms = [v for s in sites for v in s.write_ms]
    print_table(
        "Writers (PATCH through nginx with If-Match) and when a change shows through the proxy",
        [
            "changes acknowledged",
            "refused",
            "write errors",
            "write p99 ms",
            "visible: median s",
            "p99 s",
            "max s",
            "never seen",
        ],
        [
            [
                str(acked),
                " ".join(f"{s}:{n}" for s, n in sorted(refused.items())) or "0",
                str(sum(s.errors for s in sites)),
                f"{percentile(write_ms, 0.99):.0f}",
                f"{statistics.median(visible):.1f}" if visible else "-",
                f"{percentile(visible, 0.99):.1f}",
                f"{max(visible):.1f}" if visible else "-",
                # A site's last change may be too recent to have shown before the run ended.
                str(acked - len(visible)),
            ]
        ],
    )
    print("goal: 0 reader errors; a change visible through nginx within 5 s")


if __name__ == "__main__":
    main()
