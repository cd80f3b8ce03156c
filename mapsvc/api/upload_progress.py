"""How far each staff upload's check has got, so the page can say so while it waits.

Per worker process: a poll that reaches another worker than the upload's (issue 11's several
workers) finds nothing and the page keeps its indeterminate bar; the upload is unaffected.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

JOB = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEPT = 1000  # jobs remembered at once; the oldest are forgotten first
TTL_S = 3600


class UploadProgress:
    """Rows checked so far per job id (a random id the page chose), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, tuple[int, bool, float]] = OrderedDict()

    def update(self, job: str, rows: int, *, done: bool = False) -> None:
        """Record that ``rows`` rows of ``job`` have been checked (``done``: it has finished)."""
        if not JOB.match(job):
            return
        with self._lock:
            self._jobs[job] = (rows, done, time.monotonic())
            self._jobs.move_to_end(job)
            while len(self._jobs) > KEPT:
                self._jobs.popitem(last=False)

    def get(self, job: str) -> dict[str, int | bool] | None:
        """``{"rows": n, "done": bool}``, or None for a job unknown here (or expired)."""
        with self._lock:
            found = self._jobs.get(job)
        if found is None or time.monotonic() - found[2] > TTL_S:
            return None
        return {"rows": found[0], "done": found[1]}
