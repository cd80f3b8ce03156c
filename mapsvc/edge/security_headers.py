"""ASGI middleware: CSP and friends on every response; no-store on staff paths."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRIVATE_PREFIXES = ("/api/datasets", "/staff")  # staff data: never stored by a browser or proxy


class SecurityHeaders:
    """CSP and friends on every response, unless a route set its own; no-store on staff paths.

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

        private = scope["path"].startswith(PRIVATE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if private:
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                present = {name.lower() for name, _ in headers}
                extra = [(n, v) for n, v in self.defaults if n not in present]
                message = dict(message, headers=[*headers, *extra])
            await send(message)

        await self.app(scope, receive, with_headers)
