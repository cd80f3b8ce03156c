"""ASGI middleware: a worker past its capacity says so at once (503 + Retry-After)."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapsvc.edge.refusal import refuse_with
from mapsvc.errors import Busy, Unavailable


class Overload:
    """ASGI middleware: a worker past its capacity says so at once (503 + Retry-After).

    - More than ``max_in_flight`` requests in this worker: a read is answered Busy without
      being started, so the accepted ones keep their latency instead of every one timing out.
    - A read (GET/HEAD) whose response has not started after ``deadline_s`` (a database that
      stopped answering, a pool that never frees) is answered Unavailable; the work left behind
      finishes or fails on its own and its answer is dropped. Writes are not cut: an upload
      may take minutes and has its own timeouts.
    """

    def __init__(self, app: ASGIApp, max_in_flight: int, deadline_s: float) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.deadline_s = deadline_s
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Shed, or run with the deadline."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await refuse_with(send, Busy(), close=False)
            return
        started = asyncio.Event()
        answered_for_it = False
        counted = True

        def release() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.in_flight -= 1

        def finished(task: asyncio.Future[None]) -> None:
            release()
            _forget(task)

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set()
                release()  # a stream being sent (a download) waits on its reader, not on us
            if answered_for_it:
                return  # too late: the client has had its 503
            await send(message)

        # Counted until the answer starts or the work ends, even after its client was answered:
        # work stuck on a database that does not answer fills the worker, and the next reads
        # are shed at once.
        self.in_flight += 1
        work = asyncio.ensure_future(self.app(scope, receive, guarded))
        work.add_done_callback(finished)
        waiter = asyncio.ensure_future(started.wait())
        try:
            done, _ = await asyncio.wait(
                {work, waiter}, timeout=self.deadline_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        if not done:
            answered_for_it = True
            await refuse_with(send, Unavailable(), close=False)
            return
        await work


def _forget(task: asyncio.Future[None]) -> None:
    """Collect the outcome of work whose client was already answered (no 'never retrieved')."""
    if not task.cancelled():
        task.exception()
