"""kill -9 of the app, and of PostgreSQL, during a burst of status changes: no change that was
acknowledged (answered 200) is lost, and each site's history stays whole."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from mapsvc.db.engine import make_engine, make_sessionmaker
from tests.deploy.test_faults import cluster_pids
from tests.support.databases import restart_after_crash, seeded_database, throwaway_cluster
from tests.support.server import answers, mapsvc_serve, worker_pids
from tests.support.sites import KISHIWADA, Site, publish_sites
from tests.support.staging import committed_key
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db

SITES = [
    Site(f"E27202999980{i:02d}", f"避難所{i}", 135.37 + i / 1000, 34.46, 500) for i in range(4)
]
CHANGES = 40  # per site: each writer counts its site's evacuees up, one change per request


def _item(site: Site) -> str:
    return f"/api/collections/shelter_status/items/evacuation_sites:{KISHIWADA}-{site.common_id}"


class Burst:
    """One writer per site, each counting its evacuees up; what was acknowledged is noted."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key
        self.acknowledged: dict[str, list[int]] = {s.common_id: [] for s in SITES}
        self.failures = 0
        self.resumed = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(s,)) for s in SITES]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(180)
        assert not any(t.is_alive() for t in self.threads)

    def count(self) -> int:
        return sum(map(len, self.acknowledged.values()))

    def _write(self, site: Site) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base, timeout=20) as http:
            evacuees = 0
            while evacuees < CHANGES:
                evacuees += 1
                answer = None
                try:
                    read = http.get(_item(site))  # a 503 while the database is away
                    if read.status_code == 200:
                        answer = http.patch(
                            _item(site),
                            json={"status": "open", "evacuees": evacuees},
                            headers=headers | {"If-Match": read.headers["ETag"]},
                        )
                except httpx.HTTPError:
                    pass
                if answer is not None and answer.status_code == 200:
                    self.acknowledged[site.common_id].append(evacuees)
                else:  # not acknowledged: as a board would, retry once the service is back
                    self.failures += 1
                    self.resumed.wait(120)


def _check_nothing_acknowledged_is_lost(engine, burst: Burst) -> None:
    with engine.connect() as conn:
        for site in SITES:
            events = conn.execute(
                text(
                    "SELECT revision, evacuees FROM shelter_status_event "
                    "WHERE feature_key = :key AND mode = 'real' ORDER BY id"
                ),
                {"key": site.common_id},
            ).all()
            current = conn.execute(
                text(
                    "SELECT revision, evacuees FROM shelter_status_current "
                    "WHERE feature_key = :key AND mode = 'real'"
                ),
                {"key": site.common_id},
            ).one()
            recorded = [row.evacuees for row in events]
            acknowledged = burst.acknowledged[site.common_id]
            assert set(acknowledged) <= set(recorded), site.common_id
            # Whole history: revisions 1, 2, 3… with no gap, the current row is the last event.
            assert [row.revision for row in events] == list(range(1, len(events) + 1))
            assert tuple(current) == tuple(events[-1])
            assert current.evacuees >= acknowledged[-1]


def _published(settings, engine) -> str:
    with make_sessionmaker(engine)() as session:
        publish_sites(session, settings, SITES)
    return committed_key(engine, "duty", role="status")


def test_kill_9_of_the_app_during_a_burst_of_changes_loses_no_acknowledged_one(
    scratch, tmp_path: Path
):
    settings, engine = scratch
    key = _published(settings, engine)
    url = settings.database.url.get_secret_value()
    with mapsvc_serve(url, workers=2, log=tmp_path / "serve.log") as (base, server):
        burst = Burst(base, key)
        burst.start()
        wait_for(burst.count, until=lambda n: n >= 20, timeout=120, interval=0.01, what="changes")
        killed = worker_pids(server)
        assert len(killed) == 2
        for pid in killed:
            os.kill(pid, signal.SIGKILL)  # every worker, mid-burst: requests are cut off
        wait_for(
            lambda: worker_pids(server),
            until=lambda pids: len(pids) == 2 and not pids & killed,
            timeout=60,
            what="replacement workers",
        )
        wait_for(lambda: answers(f"{base}/readyz") == 200, timeout=60, what="ready again")
        burst.resumed.set()
        burst.join()
    assert burst.count() >= 20
    _check_nothing_acknowledged_is_lost(engine, burst)


def test_kill_9_of_postgresql_during_a_burst_of_changes_loses_no_acknowledged_one(
    test_settings, tmp_path: Path
):
    with throwaway_cluster(test_settings) as cluster:
        settings, engine, _ = seeded_database(test_settings, cluster.url("postgres"))
        key = _published(settings, engine)
        url = settings.database.url.get_secret_value()
        with mapsvc_serve(url, workers=1, log=tmp_path / "serve.log") as (base, _):
            burst = Burst(base, key)
            burst.start()
            wait_for(
                burst.count, until=lambda n: n >= 20, timeout=120, interval=0.01, what="changes"
            )
            for pid in cluster_pids(cluster):
                os.kill(pid, signal.SIGKILL)
            assert restart_after_crash(cluster) is True
            wait_for(lambda: answers(f"{base}/readyz") == 200, timeout=60, what="ready again")
            burst.resumed.set()
            burst.join()
        engine.dispose()
        assert burst.failures > 0  # the kill did cut some changes off
        check = make_engine(url, settings.database)
        _check_nothing_acknowledged_is_lost(check, burst)
        check.dispose()
