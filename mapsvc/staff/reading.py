"""Reading a file as the portal does it, for an upload and for fixes alike: one way.

Reading is CPU work the residents' reads share, so it waits for one of the worker's upload slots
(503 with Retry-After when none frees in time); its rows checked so far can be polled at
``/staff/progress/{job}`` (a job id the page chose; none: nothing is recorded).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from mapsvc.services.slots import Slots
from mapsvc.services.upload_progress import UploadProgress


class RowsChecked:
    """The reading's progress callback; ``finish`` gives the final count once it is known."""

    def __init__(self, tracker: UploadProgress, job: str) -> None:
        self._tracker = tracker
        self._job = job
        self.rows = 0

    def __call__(self, rows: int) -> None:
        """``rows`` rows have been checked so far."""
        self.rows = rows
        self._tracker.update(self._job, rows)

    def finish(self, rows: int) -> None:
        """The rows read in all (recorded, with "done", as the reading ends)."""
        self.rows = rows


@contextmanager
def reading_file(request: Request, job: str = "") -> Iterator[RowsChecked]:
    """Hold an upload slot for the block; the job is "done" when the block ends, however it ends."""
    tracker: UploadProgress = request.app.state.upload_progress
    slots: Slots = request.app.state.upload_slots
    checked = RowsChecked(tracker, job)
    tracker.update(job, 0)
    try:
        with slots.held():
            yield checked
    finally:
        tracker.update(job, checked.rows, done=True)
