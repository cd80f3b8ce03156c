"""ASGI middleware at the edge: credentials before bodies, body size and pace, HEAD, headers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapsvc.api.deps import session_outside_routes
from mapsvc.api.staff_pages import staff_of
from mapsvc.errors import (
    Busy,
    MapsvcError,
    PayloadTooLarge,
    RequestTimeout,
    Unavailable,
    as_domain_error,
)
from mapsvc.services.keys import Principal, auth_secret, authenticate, presented_key
from mapsvc.services.staff_sessions import StaffPrincipal

WRITE_METHODS = ("POST", "PUT", "PATCH")
MIN_BODY_RATE = 1024  # bytes/s on average once the first timeout has passed: tricklers are cut


async def refuse_with(send: Send, error: MapsvcError, *, close: bool = True) -> None:
    """Answer ``error`` at once, with its headers (Retry-After).

    ``close``: and close the connection, so an unread body is never taken in; a read that is
    shed keeps its connection.
    """
    headers = [
        (b"content-type", b"application/json"),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": orjson.dumps(error.body())})


class CredentialsFirst:
    """ASGI middleware: credentials are checked before a write's body is read.

    A write to /api/datasets/ needs a valid API key; a staff form (but signing in and choosing
    a password) a live staff session.

    Without it an anonymous client could make the server take in 50 MB before hearing 401. The
    principal found is left in the request state for the route (one lookup per request). A
    staff form whose session has ended is sent to the sign-in page.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the key of a dataset write, the session of a staff form; pass the rest on."""
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/staff/") and not scope["path"].startswith(OPEN_STAFF_FORMS):
            cookies = b"; ".join(v for k, v in scope["headers"] if k == b"cookie").decode("latin-1")
            staff = await run_in_threadpool(_staff, scope["app"], cookies)
            if staff is None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 303,
                        "headers": [
                            (b"location", b"/staff/login"),
                            (b"connection", b"close"),
                            (b"content-length", b"0"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
            scope.setdefault("state", {})["staff"] = staff
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith("/api/datasets/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = presented_key(headers.get("authorization"), headers.get("x-api-key"))
        try:
            principal: Principal = await run_in_threadpool(_authenticate, scope["app"], key)
        except Exception as exc:  # 401, or what the error table makes of a database fault
            error = as_domain_error(exc)
            if error is None:
                raise
            await refuse_with(send, error)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


OPEN_STAFF_FORMS = ("/staff/login", "/staff/setup/")  # the forms that need no session


def _staff(app: FastAPI, cookie_header: str) -> StaffPrincipal | None:
    with session_outside_routes(app) as session:
        return staff_of(session, app.state.settings, cookie_header)


def _authenticate(app: FastAPI, key: str | None) -> Principal:
    with session_outside_routes(app) as session:
        return authenticate(session, auth_secret(app.state.settings), key)


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
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
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
                if received > self.limit:
                    cut = self._too_large()
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

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"ファイルが大きすぎます（上限 {self.limit // (1024 * 1024)} MB）",
            f"The file is too large (at most {self.limit // (1024 * 1024)} MB)",
        )

    async def _refuse(self, send: Send) -> None:
        await refuse_with(send, self._too_large())


class _BodyCut(Exception):
    """The body was cut off (too large, or too slow): the refusal replaces the app's answer."""


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
