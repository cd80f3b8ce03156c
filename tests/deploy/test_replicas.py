"""Public reads from a real streaming replica: never older than a returned publish; skipped when down."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.deploy.test_workers import ITEMS, publish_aeds
from tests.support.replica import streaming_replica
from tests.support.server import live_server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db


def serving(base: str) -> bool:
    replicas = httpx.get(f"{base}/readyz").json().get("replicas", {})
    return bool(replicas) and all(r["serving"] for r in replicas.values())


def feature_scans(replica, database: str) -> int:
    """Scans of the feature table the replica itself has run (its statistics are its own)."""
    return int(
        replica.sql(
            database,
            "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables "
            "WHERE relname LIKE 'feature%'",
        )
    )


def replica_answers(replica, database: str, read: Callable[[], object]) -> bool:
    """Whether ``read`` made the replica scan features (statistics arrive within a second)."""
    before = feature_scans(replica, database)
    read()
    return wait_for(
        lambda: feature_scans(replica, database) > before, timeout=5, what="the replica's scans"
    )


def test_reads_go_to_a_replica_that_has_replayed_the_latest_publish(scratch):
    settings, engine = scratch
    database = settings.database.name
    publish_aeds(settings, engine, 1)
    with streaming_replica(settings) as replica:
        url = settings.database.url.get_secret_value()
        with live_server(url, MAPSVC_DATABASE__READ_URL=replica.url(database)) as base:
            wait_for(lambda: serving(base), what="the replica to serve")
            assert httpx.get(f"{base}{ITEMS}").json()["numberMatched"] == 1
            assert replica_answers(
                replica, database, lambda: httpx.get(f"{base}/api/collections/aed/items?limit=5")
            )
            metrics = httpx.get(f"{base}/metrics").text
            assert 'mapsvc_replica_lag_seconds{replica="replica0"}' in metrics

            # A replica that stops replaying: the publish returns, and nobody gets the old data.
            replica.sql(database, "SELECT pg_wal_replay_pause()")
            publish_aeds(settings, engine, 2)
            assert httpx.get(f"{base}{ITEMS}").json()["numberMatched"] == 2
            assert (
                replica.sql(
                    database,
                    "SELECT count(*) FROM feature f JOIN dataset d "
                    "ON f.version_id = d.current_version_id WHERE d.layer_id = 'aed'",
                )
                == 1
            )
            assert httpx.get(f"{base}/readyz").json()["replicas"]["replica0"]["serving"] is False
            assert {httpx.get(f"{base}{ITEMS}").json()["numberMatched"] for _ in range(10)} == {2}

            # Caught up again: it takes the reads back.
            replica.sql(database, "SELECT pg_wal_replay_resume()")
            wait_for(lambda: serving(base), what="the replica to serve")
            assert replica_answers(
                replica,
                database,  # a page not in the cache yet
                lambda: httpx.get(f"{base}/api/collections/aed/items?limit=99"),
            )

            # Down: reads fall back to the primary at once, and the replica is reported.
            replica.stop()
            answers = [
                httpx.get(f"{base}/api/collections/aed/items?limit={90 - i}") for i in range(10)
            ]
            assert [a.status_code for a in answers] == [200] * 10
            assert {a.json()["numberMatched"] for a in answers} == {2}
            ready = httpx.get(f"{base}/readyz")
            assert ready.status_code == 200
            assert ready.json()["replicas"]["replica0"]["serving"] is False
