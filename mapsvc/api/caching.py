"""Conditional requests: ETags tied to the published versions a response depends on."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from fastapi import Request, Response
from starlette.applications import Starlette

from mapsvc.errors import NotModified
from mapsvc.services.publications import PublicationState
from mapsvc.services.session import Session
from mapsvc.services.shelter_status import STATUS_LAYERS

# Browsers may reuse a response for a minute, then must revalidate (cheap: a 304). Shared
# caches (the nginx of deploy/, a CDN) revalidate after SHARED_MAX_AGE_S: that is how long a
# publish takes to show through them. Every worker's own memory drops at once (the watch).
SHARED_MAX_AGE_S = 5
CACHE_CONTROL = f"public, max-age=60, s-maxage={SHARED_MAX_AGE_S}, stale-while-revalidate=30"
# Shelter status changes by the minute on a disaster day, and a resident must see it within
# seconds: browsers revalidate every time (a 304 is cheap), shared caches after a second and
# may answer from the expired copy for STATUS_STALE_S more while one request refreshes it
# (nginx honours stale-while-revalidate; browsers do not, for must-revalidate). Without that
# window every reader of a busy URL queued on the app once a second (bench.disaster: 66 req/s);
# with it, a change is never more than s-maxage + STATUS_STALE_S old at the proxy.
STATUS_SHARED_MAX_AGE_S = 1
STATUS_STALE_S = 2
STATUS_CACHE_CONTROL = (
    f"public, max-age=0, s-maxage={STATUS_SHARED_MAX_AGE_S}, must-revalidate, "
    f"stale-while-revalidate={STATUS_STALE_S}"
)


def etag_for(
    request: Request, session: Session, layer_ids: Sequence[str], *, variant: str = ""
) -> str:
    """The ETag of this URL given the layers' published versions; raises NotModified on a match.

    Checked before the response is built, so a revalidation costs one small query.
    """
    state = publication_state(request.app).layer_state(session, layer_ids)
    digest = hashlib.sha256(f"{state}|{request.url.path}?{request.url.query}|{variant}".encode())
    etag = f'"{digest.hexdigest()[:32]}"'
    if matches_if_none_match(request.headers.get("if-none-match", ""), etag):
        raise NotModified(etag, cache_control_for(layer_ids))
    return etag


def cache_control_for(layer_ids: Sequence[str]) -> str:
    """How long caches may keep a response about these layers: seconds where it has a status."""
    return STATUS_CACHE_CONTROL if set(layer_ids) & set(STATUS_LAYERS) else CACHE_CONTROL


def matches_if_none_match(header: str, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks)."""
    return etag in (tag.strip().removeprefix("W/") for tag in header.split(","))


_NOTHING_REMEMBERED = PublicationState(None)


def publication_state(app: Starlette) -> PublicationState:
    """The app's publication state (set in the lifespan; before it, one that remembers nothing)."""
    state: PublicationState = getattr(app.state, "publications", _NOTHING_REMEMBERED)
    return state


def cache_headers(response: Response, etag: str, layer_ids: Sequence[str] = ()) -> Response:
    """Set the validator and the caching policy (of a response about ``layer_ids``)."""
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control_for(layer_ids)
    return response
