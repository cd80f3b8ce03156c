"""ASGI middleware: who a request is, found before its body is read, by its front end's gate.

Each front end that needs credentials brings a ``Gate``: the JSON API its API key for dataset
writes (``mapsvc.api.key_gate``), the staff portal its session for every page but signing in
(``mapsvc.staff.access``). The lookup reads the database, so it runs in a worker thread. The
identity found is left in the request state, where the front end's dependencies read it (one
lookup per request); a request without one is refused at once, so an anonymous client never
makes the server take in a 50 MB body before hearing 401.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mapsvc.edge.refusal import refuse_with
from mapsvc.errors import as_domain_error


class Gate(Protocol):
    """The credentials of some of a front end's paths."""

    state_key: str  # the request state's attribute that gets the identity

    def covers(self, method: str, path: str) -> bool:
        """Whether a request needs credentials before its body is read."""

    def identify(self, app: Any, headers: Headers) -> object:
        """The identity the request's headers prove (in a worker thread); a MapsvcError if none."""

    def sign_in_page(self, method: str, path: str) -> str | None:
        """Where a refused person is sent to sign in (303), or None for the error's JSON."""


class CredentialsFirst:
    """Ask the gate that covers the request who it is; pass the rest on untouched."""

    def __init__(self, app: ASGIApp, gates: Sequence[Gate]) -> None:
        self.app = app
        self.gates = tuple(gates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Identify, or refuse, the requests a gate covers."""
        gate = None
        if scope["type"] == "http":
            gate = next((g for g in self.gates if g.covers(scope["method"], scope["path"])), None)
        if gate is None:
            await self.app(scope, receive, send)
            return
        try:
            identity = await run_in_threadpool(gate.identify, scope["app"], Headers(scope=scope))
        except Exception as exc:  # 401, or what the error table makes of a database fault
            error = as_domain_error(exc)
            if error is None:
                raise
            page = (
                gate.sign_in_page(scope["method"], scope["path"]) if error.status == 401 else None
            )
            if page is None:
                await refuse_with(send, error, close=scope["method"] not in ("GET", "HEAD"))
            else:
                await _see_other(send, page)
            return
        scope.setdefault("state", {})[gate.state_key] = identity
        await self.app(scope, receive, send)


async def _see_other(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"connection", b"close"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
