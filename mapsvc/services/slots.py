"""A per-process bound on heavy work (uploads, password hashes): wait a little for a slot, else Busy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from mapsvc.errors import Busy


class Slots:
    """At most ``count`` of something at once (per process); a caller waits ``wait_s``, then Busy."""

    def __init__(self, count: int, wait_s: float) -> None:
        self._semaphore = threading.BoundedSemaphore(count)
        self._wait_s = wait_s

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold a slot for the block; raise Busy (503, Retry-After) when none frees in time."""
        if not self._semaphore.acquire(timeout=self._wait_s):
            raise Busy()
        try:
            yield
        finally:
            self._semaphore.release()
