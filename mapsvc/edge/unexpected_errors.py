"""ASGI middleware: a bug still answers in the error table, and is logged and counted as a 500.

Starlette answers an unhandled exception outermost, past every middleware: a bare
``Internal Server Error`` without the security headers, logged by the server alone and seen by
the metrics as no status at all. Innermost here, it becomes the error table's 500 (a page on
the portal's paths), which every middleware then sees like any other answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapsvc.errors import InternalError
from mapsvc.logs import loggable_path

log = logging.getLogger(__name__)
Answer = Callable[[Request, Exception], Awaitable[Response]]


class UnexpectedErrors:
    """Turn an exception nothing handled into the error table's 500 (when nothing was sent)."""

    def __init__(self, app: ASGIApp, answer: Answer) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; answer a bug's 500 in the documented shape."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception:
            log.exception(
                "unexpected error in %s %s", scope["method"], loggable_path(scope["path"])
            )
            if started:  # half an answer is out: only cutting the connection can tell
                raise
            response = await self.answer(Request(scope, receive), InternalError())
            await response(scope, receive, send)
