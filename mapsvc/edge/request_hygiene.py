"""ASGI middleware at the very edge: every layer below sees one value per header, and no NUL.

With ``Host: evil.example`` and then ``Host: 127.0.0.1``, one component (the response cache's
key) read the last copy and another (the links in the body) the first: a poisoned entry for
everyone. So a request repeating a header that has one value by definition is refused (400),
and repeated list headers (``Accept-Encoding: gzip`` + ``Accept-Encoding: identity``) are
joined into one, as RFC 9110 §5.3 says they mean. A NUL byte in the path or the query can only
be an attack or an accident, and would reach PostgreSQL, which refuses it in text: 400 here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mapsvc.edge.refusal import refuse_with
from mapsvc.errors import InvalidParameter

# Headers defined to carry one value: a second copy is ambiguous, so refused.
SINGLETONS = frozenset(
    {
        b"host",
        b"content-length",
        b"content-type",
        b"authorization",
        b"x-api-key",
        b"origin",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"if-modified-since",
        b"range",
    }
)


def _nul_in(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


def _one_value_each(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]] | bytes:
    """The headers with repeated list headers joined; the name of a repeated singleton instead."""
    joined: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in joined:
            if name in SINGLETONS:
                return name
            joined[name] = joined[name] + b", " + value
        else:
            joined[name] = value
    return list(joined.items())


class RequestHygiene:
    """Refuse ambiguous requests (400) before anything reads them; join repeated list headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a clean request on; answer a 400 in the documented error shape otherwise."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _nul_in(scope):
            await refuse_with(
                send,
                InvalidParameter(
                    "URL に NUL 文字（%00）は使えません",
                    "A NUL character (%00) is not allowed in URLs",
                ),
            )
            return
        headers = _one_value_each(scope["headers"])
        if isinstance(headers, bytes):
            name = headers.decode("latin-1")
            await refuse_with(
                send,
                InvalidParameter(
                    f"ヘッダー {name} が2回以上あります",
                    f"The header {name} appears more than once",
                ),
            )
            return
        if len(headers) != len(scope["headers"]):
            scope = dict(scope, headers=headers)
        await self.app(scope, receive, send)
