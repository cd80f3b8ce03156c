"""Conditional requests: ETags tied to the published versions a response depends on."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from mapsvc.db.features import layer_state
from mapsvc.db.publication_watch import PublicationWatch

# Browsers and proxies may reuse a response for a minute, then must revalidate (cheap: a 304).
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=30"


class NotModified(Exception):
    """The client's copy is current: answer 304."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


def etag_for(
    request: Request, session: Session, layer_ids: Sequence[str], variant: str = ""
) -> str:
    """The ETag of this URL given the layers' published versions; raises NotModified on a match.

    Checked before the response is built, so a revalidation costs one small query.
    """
    state = _layer_state(request, session, layer_ids)
    digest = hashlib.sha256(f"{state}|{request.url.path}?{request.url.query}|{variant}".encode())
    etag = f'"{digest.hexdigest()[:32]}"'
    if matches_if_none_match(request.headers.get("if-none-match", ""), etag):
        raise NotModified(etag)
    return etag


def matches_if_none_match(header: str, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks)."""
    return etag in (tag.strip().removeprefix("W/") for tag in header.split(","))


def _layer_state(request: Request, session: Session, layer_ids: Sequence[str]) -> str:
    """The layers' state, remembered until the publication watch hears of a change.

    Keyed by the generation read *before* the query: a change that lands meanwhile leaves the
    answer under the old generation, which no later request asks for.
    """
    generation = publication_generation(request.app)
    if generation is None:
        return layer_state(session, layer_ids)
    remembered: tuple[int, dict[tuple[str, ...], str]] | None = getattr(
        request.app.state, "layer_states", None
    )
    if remembered is None or remembered[0] != generation:
        remembered = request.app.state.layer_states = (generation, {})
    key = tuple(layer_ids)
    state = remembered[1].get(key)
    if state is None:
        state = remembered[1][key] = layer_state(session, layer_ids)
    return state


def publication_generation(app: Starlette) -> int | None:
    """The publication watch's generation; None (remember nothing) when it is off or not listening."""
    watch: PublicationWatch | None = getattr(app.state, "publication_watch", None)
    return watch.current() if watch is not None else None


def cache_headers(response: Response, etag: str) -> Response:
    """Set the validator and the caching policy on a response."""
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
