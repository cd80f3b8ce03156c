"""Run due sources, each exactly once across every worker and host.

The jobs are the ``harvest_source`` rows themselves (``next_run_at``), claimed with
``FOR UPDATE SKIP LOCKED`` and a lease (see ``mapsvc.db.harvest.claim_due``): no second broker,
no cron in the container, no job table that could disagree with the sources. The loop runs as
a thread of ``mapsvc serve`` (the embedded default) or as its own ``mapsvc harvest`` process;
any number of them may run against one database.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from layers import Catalog
from mapsvc.db import harvest
from mapsvc.services.harvest.fetcher import Resolver, system_resolver
from mapsvc.services.harvest.runs import RunResult, lease, run_source
from mapsvc.settings import Settings

log = logging.getLogger(__name__)


def run_due(
    make_session: sessionmaker[Session],
    settings: Settings,
    catalog: Catalog,
    *,
    resolve: Resolver = system_resolver,
) -> list[RunResult]:
    """Claim and run due sources one after another until none is due; their results."""
    results: list[RunResult] = []
    while True:
        with make_session() as session:
            source_id = harvest.claim_due(session, lease(settings))
            session.commit()
            if source_id is None:
                return results
            results.append(run_source(session, settings, catalog, source_id, resolve=resolve))


class Harvester(threading.Thread):
    """The scheduler loop: every ``poll_interval_s``, run what is due; ``stop()`` ends it."""

    def __init__(
        self, make_session: sessionmaker[Session], settings: Settings, catalog: Catalog
    ) -> None:
        super().__init__(name="mapsvc-harvester", daemon=True)
        self._make_session = make_session
        self._settings = settings
        self._catalog = catalog
        self._stopping = threading.Event()

    def run(self) -> None:
        """Poll until stopped; a failing round is logged and the next one tried."""
        while not self._stopping.is_set():
            try:
                run_due(self._make_session, self._settings, self._catalog)
            except Exception:  # a database restart must not end the harvester for good
                log.exception("harvest round failed")
            self._stopping.wait(self._settings.harvest.poll_interval_s)

    def stop(self, timeout_s: float = 10) -> None:
        """Ask the loop to end after the current run, and wait for it a while."""
        self._stopping.set()
        self.join(timeout_s)
