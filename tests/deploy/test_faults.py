"""Faults as production meets them: PostgreSQL killed during publishes, PostgreSQL stopped."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from layers import load_catalog
from mapsvc.db.engine import make_engine, make_sessionmaker
from mapsvc.embedded import EmbeddedCluster
from mapsvc.services.uploads import UploadRequest, upload
from mapsvc.services.versions import SourceFile
from tests.deploy.test_workers import ITEMS, publish_aeds
from tests.support.databases import restart_after_crash, seeded_database, throwaway_cluster
from tests.support.portal import aed_csv
from tests.support.server import live_server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db

KISHIWADA = "272027"
PUBLISHES = 20


def aeds(rows: int) -> bytes:
    return aed_csv([(f"AED{i}", f"{34.44 + i * 1e-4:.4f}", "135.3716") for i in range(rows)])


def cluster_pids(cluster: EmbeddedCluster) -> list[int]:
    """The postmaster and every process it started."""
    postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return [postmaster, *map(int, children)]


def test_kill_9_of_postgresql_during_publishes_leaves_each_whole_or_absent(test_settings):
    with throwaway_cluster(test_settings) as cluster:
        settings, engine, _ = seeded_database(test_settings, cluster.url("postgres"))
        url = settings.database.url.get_secret_value()
        files = {n: aeds(n) for n in range(1, PUBLISHES + 1)}  # each publish a different size
        returned: dict[int, int] = {}  # rows -> version id, for the publishes that returned
        failed: list[int] = []
        restarted = threading.Event()

        def publish_all() -> None:
            sessions = make_sessionmaker(engine)
            for rows, content in files.items():
                try:
                    with sessions() as session:
                        result = upload(
                            session,
                            settings,
                            layer=load_catalog()["aed"],
                            municipality=KISHIWADA,
                            source=SourceFile(content, f"aed{rows}.csv", "auto"),
                            request=UploadRequest(publish=True),
                            actor="test",
                        )
                    returned[rows] = result.version.id
                except DBAPIError:
                    failed.append(rows)
                    restarted.wait(60)  # as a person would: try the next file once it is back

        publisher = threading.Thread(target=publish_all)
        publisher.start()
        wait_for(
            lambda: len(returned) >= 8 or not publisher.is_alive(),
            timeout=120,
            interval=0.01,  # the 9th publish starts at once: kill during it, not after
            what="eight publishes",
        )
        # The 9th is under way as the server dies: kill -9 of every PostgreSQL process.
        for pid in cluster_pids(cluster):
            os.kill(pid, signal.SIGKILL)
        assert restart_after_crash(cluster) is True  # the rest go ahead
        restarted.set()
        publisher.join(120)
        assert not publisher.is_alive()
        assert failed and len(returned) + len(failed) == PUBLISHES and len(returned) >= 9
        engine.dispose()

        check = make_engine(url, settings.database)
        with check.connect() as conn:
            versions = {
                sha: (status, count, stored)
                for sha, status, count, stored in conn.execute(
                    text(
                        "SELECT v.source_sha256, v.status, v.feature_count, "
                        "(SELECT count(*) FROM feature f WHERE f.version_id = v.id) "
                        "FROM version v JOIN dataset d ON d.id = v.dataset_id WHERE d.layer_id = 'aed'"
                    )
                )
            }
            audited = conn.scalar(
                text(
                    "SELECT count(*) FROM audit_log WHERE action = 'publish' "
                    "AND layer_id = 'aed' AND result = 'ok'"
                )
            )
            current = conn.execute(
                text(
                    "SELECT d.current_version_id, (SELECT count(*) FROM published_feature p "
                    "WHERE p.dataset_id = d.id) FROM dataset d WHERE d.layer_id = 'aed'"
                )
            ).one()
            orphans = conn.scalar(
                text(
                    "SELECT count(*) FROM feature f WHERE NOT EXISTS "
                    "(SELECT 1 FROM version v WHERE v.id = f.version_id)"
                )
            )
        check.dispose()
        for rows, content in files.items():
            found = versions.get(hashlib.sha256(content).hexdigest())
            if rows in returned:  # returned: all of it is there, every row
                assert found is not None and found[1:] == (rows, rows), rows
            elif found is not None:  # failed: absent, or complete (it committed as the link broke)
                assert found[1:] == (rows, rows), rows
        assert orphans == 0 and audited >= len(returned)
        last = max(returned)
        assert current == (returned[last], last)  # the last publish that returned is what is shown


def scratch_backends(engine) -> list[int]:
    """The server processes of this database's connections, and the postmaster's."""
    with engine.connect() as conn:
        pids = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            )
        ]
        data_dir = conn.scalar(text("SHOW data_directory"))
    postmaster = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
    return [postmaster, *pids]


def test_a_stopped_postgresql_is_answered_with_503_fast_and_recovers(scratch):
    """SIGSTOP: the server's sockets stay open and nothing answers (a hung host, a full disk)."""
    settings, engine = scratch
    publish_aeds(settings, engine, 1)
    url = settings.database.url.get_secret_value()
    with (
        live_server(url, MAPSVC_API__READ_DEADLINE_S="2") as base,
        httpx.Client(timeout=10) as http,
    ):
        assert http.get(f"{base}{ITEMS}").status_code == 200  # in memory from now on
        stopped = scratch_backends(engine)
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        try:
            assert http.get(f"{base}{ITEMS}").status_code == 200  # answered from memory

            def uncached(limit: int) -> tuple[int, str | None, float]:
                start = time.monotonic()
                answer = http.get(f"{base}/api/collections/aed/items?limit={limit}")
                return (
                    answer.status_code,
                    answer.headers.get("retry-after"),
                    time.monotonic() - start,
                )

            with ThreadPoolExecutor(12) as pool:
                answers = list(pool.map(uncached, range(1, 25)))
            assert {status for status, _, _ in answers} == {503}
            assert all(retry for _, retry, _ in answers)
            assert max(seconds for _, _, seconds in answers) < 8  # inside the client's 10 s
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
        recovered = wait_for(
            lambda: http.get(f"{base}/api/collections/aed/items?limit=77"),
            until=lambda answer: answer.status_code == 200,
            timeout=20,
            what="reads to recover",
        )
        assert recovered.json()["numberMatched"] == 1
