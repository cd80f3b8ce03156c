"""How far each staff upload's check has got, so the page can say so while it waits.

Kept in PostgreSQL, not in the worker: with several workers (``mapsvc serve --workers``) the
page's poll reaches any of them. Written in its own short transactions, outside the upload's
(which commits only at the end), at most ``MIN_INTERVAL_S`` apart per job; a failed write
costs the page its count, never the upload.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mapsvc.db import upload_progress as rows_of

JOB = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # a random id the page chose
KEPT_FOR = timedelta(hours=1)
MIN_INTERVAL_S = 0.5
KEPT_JOBS = 1000

log = logging.getLogger(__name__)


class UploadProgress:
    """Rows checked so far per job id, shared by every worker through the database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        self._last_write: dict[str, float] = {}

    def update(self, job: str, rows: int, *, done: bool = False) -> None:
        """Record that ``rows`` rows of ``job`` have been checked (``done``: it has finished)."""
        if not JOB.match(job) or not self._due(job, done):
            return
        try:
            with self._sessions() as session, session.begin():
                if rows == 0 and not done:  # a job starts: a moment to forget the old ones
                    rows_of.forget_older_than(session, KEPT_FOR)
                rows_of.record(session, job, rows, done)
        except SQLAlchemyError:
            log.warning("upload progress for %s not recorded", job, exc_info=True)

    def get(self, session: Session, job: str) -> dict[str, int | bool] | None:
        """``{"rows": n, "done": bool}``, or None for a job unknown (or older than an hour)."""
        if not JOB.match(job):
            return None
        found = rows_of.find(session, job, KEPT_FOR)
        return None if found is None else {"rows": found[0], "done": found[1]}

    def _due(self, job: str, done: bool) -> bool:
        now = time.monotonic()
        with self._lock:
            if done:
                self._last_write.pop(job, None)
                return True
            if now - self._last_write.get(job, -MIN_INTERVAL_S) < MIN_INTERVAL_S:
                return False
            if len(self._last_write) > KEPT_JOBS:  # jobs that ended in a crash, never "done"
                self._last_write.clear()
            self._last_write[job] = now
            return True
