"""ASGI middleware: public data responses kept in memory until something is published.

Only responses that carry an ETag are kept: those are the ones our routers tie to the published
versions (see ``caching.etag_for``). Each entry is tagged with the publication generation of
the moment its request arrived; a publish, rollback or boundary change moves the generation
(``PublicationWatch``), so no entry outlives the data it was made from. Compressed bodies are
kept as they were sent, so a hit costs neither a query nor compression. Bounded by total bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapsvc.api.caching import matches_if_none_match
from mapsvc.edge.compression import preferred_encoding

# Staff endpoints: authenticated, never shared. The coverage matrix shows the harvest's
# freshness, which changes without a publish (its ETag covers it; this cache could not).
NOT_CACHED_PREFIXES = ("/api/datasets", "/api/coverage")
CREDENTIAL_HEADERS = {b"authorization", b"x-api-key", b"cookie"}
HIT_HEADER = (b"x-cache", b"hit")
LOCK_WAIT_S = 5.0  # a request waits this long for the same miss's answer, then asks itself
VALIDATOR_HEADERS = {b"etag", b"cache-control", b"vary", b"access-control-allow-origin"}


@dataclass(frozen=True)
class Entry:
    """A response as it was sent, and the publication generation it was made in."""

    generation: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


@dataclass
class _Capture:
    """What a miss has seen of its response so far."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    etag: bytes = b""
    keep: bool = False
    not_modified: bool = False
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    return matches_if_none_match(if_none_match.decode("latin-1"), etag.decode("latin-1"))


def _encoding(accept_encoding: bytes) -> bytes:
    return preferred_encoding(accept_encoding.decode("latin-1")).encode()


class ResponseCache:
    """Serve repeated public GETs from memory while the published data stays the same."""

    def __init__(
        self, app: ASGIApp, *, generation: Callable[[], int | None], max_bytes: int, max_entry: int
    ) -> None:
        self.app = app
        self.generation = generation
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.entries: OrderedDict[tuple[bytes, ...], Entry] = OrderedDict()
        self.size = 0
        # Misses being answered now: their generation, and an event set once they are done.
        self.pending: dict[tuple[bytes, ...], tuple[int, asyncio.Event]] = {}

    def _cacheable(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        path: str = scope["path"]
        return (
            scope["method"] == "GET"
            and path.startswith("/api/")
            and not path.startswith(NOT_CACHED_PREFIXES)
            and "/download" not in path  # streamed, large and rate-limited
            # Defence in depth: whatever carries credentials is nobody else's to reuse.
            and CREDENTIAL_HEADERS.isdisjoint(headers)
        )

    @staticmethod
    def _key(scope: Scope, headers: dict[bytes, bytes]) -> tuple[bytes, ...]:
        """Exactly what the app's answer depends on (RequestHygiene left one value per header)."""
        return (
            scope["path"].encode(),
            scope["query_string"],
            # As Compression decides; after RequestHygiene there is one value to look at.
            _encoding(headers.get(b"accept-encoding", b"")),
            headers.get(b"accept", b""),
            b"origin" if b"origin" in headers else b"",
            # Links in bodies are absolute: scheme (a trusted proxy's X-Forwarded-Proto) and host.
            scope["scheme"].encode(),
            headers.get(b"host", b"") or repr(scope.get("server")).encode(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A hit from memory; otherwise the app's response, streamed and kept if it may be."""
        if scope["type"] != "http" or self.max_bytes == 0:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        generation = self.generation() if self._cacheable(scope, headers) else None
        if generation is None:
            await self.app(scope, receive, send)
            return
        key = self._key(scope, headers)
        if_none_match = headers.get(b"if-none-match", b"")
        if await self._hit(key, generation, if_none_match, send):
            return
        # The same miss already being answered (the first requests after a publish, all at
        # once): wait for that answer instead of asking the database again — as nginx's
        # proxy_cache_lock does in front.
        pending = self.pending.get(key)
        if pending is not None and pending[0] == generation:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pending[1].wait(), LOCK_WAIT_S)
            if await self._hit(key, generation, if_none_match, send):
                return
        answered = asyncio.Event()
        self.pending[key] = (generation, answered)
        try:
            await self._miss(scope, receive, send, key, generation, if_none_match)
        finally:
            answered.set()
            if self.pending.get(key, (0, None))[1] is answered:
                del self.pending[key]

    async def _hit(
        self, key: tuple[bytes, ...], generation: int, if_none_match: bytes, send: Send
    ) -> bool:
        entry = self.entries.get(key)
        if entry is None or entry.generation != generation:
            return False
        self.entries.move_to_end(key)
        await self._replay(entry, send, not_modified=_matches(if_none_match, entry.etag))
        return True

    async def _miss(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: tuple[bytes, ...],
        generation: int,
        if_none_match: bytes,
    ) -> None:
        # Ask for the full response even on a revalidation, so the next one is a hit too; the
        # client still gets its 304. Bodies stream through as they come, copied on the side.
        inner = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"if-none-match"])
        seen = _Capture()

        async def copy_and_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
                seen.headers = list(message.get("headers", []))
                seen.etag = dict(seen.headers).get(b"etag", b"")
                seen.keep = bool(seen.etag) and seen.status in (200, 204)
                seen.not_modified = bool(seen.etag) and _matches(if_none_match, seen.etag)
                await send(_not_modified(seen.headers) if seen.not_modified else message)
                return
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                last = not message.get("more_body", False)
                seen.size += len(body)
                seen.keep = seen.keep and seen.size <= self.max_entry
                if seen.keep:
                    seen.chunks.append(body)
                    if last:
                        # Kept before the last byte leaves: the client's next request on this
                        # connection may be handled before this coroutine resumes.
                        entry = Entry(
                            generation, seen.status, seen.headers, b"".join(seen.chunks), seen.etag
                        )
                        self._store(key, entry)
                if seen.not_modified:
                    if last:
                        await send({"type": "http.response.body", "body": b""})
                    return
            await send(message)

        await self.app(inner, receive, copy_and_send)

    def _store(self, key: tuple[bytes, ...], entry: Entry) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.max_bytes and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)

    @staticmethod
    async def _replay(entry: Entry, send: Send, *, not_modified: bool) -> None:
        headers = [*entry.headers, HIT_HEADER]
        if not_modified:
            await send(_not_modified(headers))
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})


def _not_modified(headers: list[tuple[bytes, bytes]]) -> Message:
    """A 304 keeps the validators and caching headers, and drops the body's."""
    kept = [(k, v) for k, v in headers if k in VALIDATOR_HEADERS or k == HIT_HEADER[0]]
    return {"type": "http.response.start", "status": 304, "headers": kept}
