"""ASGI middleware: each request timed by route, given its id, and written to the access log."""

from __future__ import annotations

import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapsvc.api.metrics import Metrics
from mapsvc.logs import REQUEST_ID, VALID_REQUEST_ID, access, loggable_path


class RequestMetrics:
    """Pure ASGI middleware: time each HTTP request to its last byte, by route template.

    It also gives the request its id (the proxy's ``X-Request-ID`` when well formed, else a new
    one), sends it back in the response, and writes the access log line (``mapsvc.logs``).
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Observe the request once its response has been sent."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = scope.setdefault("state", {})  # shared with the copies routing makes of scope
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        status = "0"
        hit = False
        sent = 0

        async def observe(message: Message) -> None:
            nonlocal status, hit, sent
            if message["type"] == "http.response.start":
                status = str(message["status"])
                hit = (b"x-cache", b"hit") in message.get("headers", [])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observe)
        except BaseException:
            status = status if status != "0" else "500"  # what the client gets, if anything
            raise
        finally:
            elapsed = time.perf_counter() - start
            route = state.get("route_template") or _unrouted(scope["path"], hit)
            self.metrics.duration.labels(scope["method"], route, status[0] + "xx").observe(elapsed)
            self.metrics.bytes.labels(route).inc(sent)
            if scope["method"] == "GET" and scope["path"].startswith("/api/"):
                self.metrics.cache.labels("hit" if hit else "miss").inc()
            access(
                route,
                {
                    "method": scope["method"],
                    "path": loggable_path(scope["path"]),
                    "route": route,
                    "status": int(status),
                    "duration_s": round(elapsed, 6),
                    "bytes": sent,
                    "cache": "hit" if hit else "miss",
                    "client": (scope.get("client") or ("",))[0],
                },
            )
            REQUEST_ID.reset(token)


def _request_id(scope: Scope) -> str:
    """The proxy's request id if it is one we can log safely, else a fresh one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if VALID_REQUEST_ID.match(given):
                return given
    return uuid.uuid4().hex


def _unrouted(path: str, hit: bool) -> str:
    # Cache hits are answered before routing; files and unknown paths share one label each, so
    # that the labels stay bounded.
    if hit:
        return "cached"
    return "static" if not path.startswith("/api/") else "unmatched"
