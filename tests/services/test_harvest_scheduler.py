"""The harvest scheduler on a scratch database whose commits are real: several workers, one run."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from layers import load_catalog
from mapsvc.db import harvest
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.harvest import manage
from mapsvc.services.harvest.fetcher import FetchPolicy
from mapsvc.services.harvest.runs import lease
from mapsvc.services.harvest.scheduler import Harvester, run_due
from mapsvc.services.harvest.sources import source_definition
from mapsvc.settings import HarvestSettings
from tests.services.test_harvest_runs import aed_csv
from tests.support.file_hosts import Reply, file_host
from tests.support.staging import KISHIWADA

pytestmark = pytest.mark.db
WORKERS = 4


def harvesting(scratch):
    settings, engine = scratch
    settings = settings.model_copy(
        update={
            "harvest": HarvestSettings(
                allow_networks="127.0.0.0/8", allow_http_hosts="127.0.0.1", poll_interval_s=0.1
            )
        }
    )
    return settings, make_sessionmaker(engine)


def add(make_session, settings, url: str) -> None:
    with make_session() as session:
        manage.set_source(
            session,
            layer=load_catalog()["aed"],
            municipality=KISHIWADA,
            definition=source_definition(FetchPolicy.from_settings(settings), kind="file", url=url),
            actor="test",
        )


def fetches(make_session) -> list[str]:
    with make_session() as session:
        return list(session.execute(text("SELECT outcome FROM harvest_fetch")).scalars())


def test_several_workers_and_one_due_source_make_one_run(scratch):
    settings, make_session = harvesting(scratch)
    with file_host() as host:
        # A slow answer keeps the first worker busy while the others look for work.
        host.plain("/aed.csv", Reply(body=aed_csv(5), stall_s=0.5))
        add(make_session, settings, f"{host.base}/aed.csv")
        start = threading.Barrier(WORKERS)
        results: list[int] = []

        def worker() -> None:
            start.wait()
            results.append(len(run_due(make_session, settings, load_catalog())))

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [0] * (WORKERS - 1) + [1]
        assert host.paths() == ["/aed.csv"]
        assert fetches(make_session) == ["published"]


def test_a_claim_lasts_its_lease_and_then_a_crashed_run_is_taken_again(scratch):
    settings, make_session = harvesting(scratch)
    add(make_session, settings, "http://127.0.0.1:9/aed.csv")
    with make_session() as session:
        claimed = harvest.claim_due(session, lease(settings))
        session.commit()
        assert claimed is not None
        # The worker died here, before recording anything: the lease holds others off …
        assert harvest.claim_due(session, lease(settings)) is None
        session.execute(text("UPDATE harvest_source SET claimed_until = now() - interval '1 s'"))
        session.commit()
        # … until it runs out.
        assert harvest.claim_due(session, lease(settings)) == claimed


def test_the_harvester_thread_runs_what_is_due_until_stopped(scratch):
    settings, make_session = harvesting(scratch)
    with file_host() as host:
        host.file("/aed.csv", aed_csv(3))
        add(make_session, settings, f"{host.base}/aed.csv")
        harvester = Harvester(make_session, settings, load_catalog())
        harvester.start()
        try:
            for _ in range(200):  # waits for the outcome, asserts nothing about time
                if fetches(make_session):
                    break
                time.sleep(0.05)
        finally:
            harvester.stop()
        assert not harvester.is_alive()
        assert fetches(make_session) == ["published"]
