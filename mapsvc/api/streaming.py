"""Responses sent to clients that may read slowly: every send has a deadline.

A client that stops reading (a tiny receive window, a phone in a tunnel) would otherwise hold
its download's database connection and buffers for as long as it likes. When one send does not
complete in time the transfer is cut: the chunked body never gets its last chunk, so the client
sees a broken transfer, never a complete-looking 200; the body's source is always closed, which
gives its database connection back at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send


class SlowReader(Exception):
    """The client did not take a chunk within the send timeout: the transfer is cut."""


def _within(send: Send, seconds: float) -> Send:
    async def timed(message: Message) -> None:
        try:
            with anyio.fail_after(seconds):
                await send(message)
        except TimeoutError:
            raise SlowReader(f"a chunk waited more than {seconds} s for the client") from None

    return timed


class GuardedStream(StreamingResponse):
    """A streamed body from a (sync) iterator, with a send deadline; the iterator is closed."""

    def __init__(self, chunks: Iterator[bytes], *, send_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(chunks, **kwargs)
        self.source = chunks
        self.send_timeout_s = send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream with the deadline; close the source however the stream ends."""
        try:
            await super().__call__(scope, receive, _within(send, self.send_timeout_s))
        finally:
            close = getattr(self.source, "close", None)
            if close is not None:
                await run_in_threadpool(close)


class GuardedFile(FileResponse):
    """A file sent with a send deadline."""

    def __init__(self, path: Any, *, send_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.send_timeout_s = send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the file with the deadline."""
        await super().__call__(scope, receive, _within(send, self.send_timeout_s))
