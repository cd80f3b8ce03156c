"""ASGI middleware: request bodies bounded in size and in pace."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapsvc.edge.refusal import refuse_with
from mapsvc.errors import MapsvcError, PayloadTooLarge, RequestTimeout

BODY_METHODS = ("POST", "PUT", "PATCH")
# A url-encoded form carries typed fields, never a file: python-multipart takes seconds of CPU
# over tens of megabytes of ``&``, so such a body is bounded far below the upload limit.
FORM_LIMIT = 256 * 1024
URLENCODED = b"application/x-www-form-urlencoded"
MIN_BODY_RATE = 1024  # bytes/s on average once the first timeout has passed: tricklers are cut


class BodySizeLimit:
    """ASGI middleware: bodies bounded in size and in pace.

    413 as soon as a body passes ``limit`` bytes (by header or by count); 408 when it stops
    arriving for ``timeout_s`` seconds, or arrives slower than ``MIN_BODY_RATE`` on average after
    that long (one byte every few seconds would otherwise hold a connection for days).
    """

    def __init__(self, app: ASGIApp, limit: int, timeout_s: float = 30.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting the body as it streams."""
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        form = headers.get(b"content-type", b"").lower().startswith(URLENCODED)
        limit = min(self.limit, FORM_LIMIT) if form else self.limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse_with(send, self._too_large(limit))
            return
        received = 0
        started = asyncio.get_running_loop().time()
        cut: MapsvcError | None = None  # why the body was cut off, once it was
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, cut
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except TimeoutError:
                message = None
            elapsed = asyncio.get_running_loop().time() - started
            if message is None or (elapsed > self.timeout_s and received < MIN_BODY_RATE * elapsed):
                cut = RequestTimeout(
                    "ファイルの受信が途中で止まりました（遅すぎます）。もう一度アップロードしてください",
                    "The upload stopped arriving, or arrives far too slowly: please send it again",
                )
                raise _BodyCut
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut = self._too_large(limit)
                    raise _BodyCut
            return message

        async def refuse() -> None:
            nonlocal refused
            if cut is not None and not refused:
                refused = True
                await refuse_with(send, cut)

        async def guarded_send(message: Message) -> None:
            # Whatever the app answers once the body was cut off (FastAPI turns a failed body
            # read into a 400), the client gets the 413 or 408 that explains it.
            if cut is not None:
                await refuse()
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyCut:
            await refuse()

    @staticmethod
    def _too_large(limit: int) -> PayloadTooLarge:
        if limit < 1024 * 1024:
            return PayloadTooLarge(
                f"フォームが大きすぎます（上限 {limit // 1024} KB）",
                f"The form is too large (at most {limit // 1024} KB)",
            )
        return PayloadTooLarge(
            f"ファイルが大きすぎます（上限 {limit // (1024 * 1024)} MB）",
            f"The file is too large (at most {limit // (1024 * 1024)} MB)",
        )


class _BodyCut(Exception):
    """The body was cut off (too large, or too slow): the refusal replaces the app's answer."""
