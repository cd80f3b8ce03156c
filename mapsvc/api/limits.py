"""ASGI middleware at the edge: body-size limits, HEAD for every GET, security headers."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapsvc.errors import PayloadTooLarge


class BodySizeLimit:
    """ASGI middleware: 413 as soon as a body passes ``limit`` bytes (by header or by count)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting the body as it streams."""
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app answers once the body was cut off (FastAPI turns a failed body
            # read into a 400), the client gets the 413 that explains it.
            nonlocal refused
            if received > self.limit:
                if not refused:
                    refused = True
                    await self._refuse(send)
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not refused:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        error = PayloadTooLarge(
            f"ファイルが大きすぎます（上限 {self.limit // (1024 * 1024)} MB）",
            f"The file is too large (at most {self.limit // (1024 * 1024)} MB)",
        )
        body = orjson.dumps(error.body())
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class HeadAsGet:
    """Answer HEAD like GET without the body (FastAPI routes declare GET only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run HEAD requests as GET and drop the body from the response."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": False}
                if getattr(headers_only, "done", False):
                    return
                headers_only.done = True  # type: ignore[attr-defined]
            await send(message)

        await self.app(dict(scope, method="GET"), receive, headers_only)


class SecurityHeaders:
    """CSP and friends on every response, unless a route set its own.

    A pure ASGI middleware: Starlette's BaseHTTPMiddleware cost about a millisecond a request.
    """

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.defaults = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers the response does not already carry."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.defaults if n not in present]
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, with_headers)
