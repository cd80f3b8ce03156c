"""How the edge refuses a request before the app has seen it: the error table's JSON."""

from __future__ import annotations

import orjson
from starlette.types import Send

from mapsvc.errors import MapsvcError


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
