"""The items route without FastAPI's parameter and dependency solving, for the requests it fits.

``GET /api/collections/{layer}/items`` is the API's busiest uncached request. Through FastAPI it
cost about three times the work of the answer itself: every parameter validated by pydantic, and
the two session dependencies each entered and left on the thread pool (four hops besides the
endpoint's own). This route answers the same requests with one hop and the same code:
``build_items_request`` for the parameters (so a bad bbox or CRS is refused in the same words),
``items_response`` for the answer (so the body, ETag and headers are the same bytes).

It takes a request only when FastAPI's own validation could not have refused it: a known layer,
each parameter once, no empty value, ``limit``/``offset`` plain digits within their bounds.
Anything else falls through to the FastAPI route, which gives its usual error. The FastAPI route
stays the one in the OpenAPI document; a test holds the two to the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from layers import LayerDefinition
from mapsvc.api.deps import read_session_outside_routes
from mapsvc.api.params import COMMON, MAX_OFFSET, attribute_names, build_items_request
from mapsvc.api.routers.collections import items_response

PATH = "/api/collections/{layer}/items"
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class _Fitting:
    """What ``matches`` read of a fitting request, handed to the endpoint in the scope."""

    layer: LayerDefinition
    limit: int | None
    offset: int
    strings: dict[str, str]


def _fitting(scope: Scope) -> _Fitting | None:
    """The request as read, when it is one FastAPI would pass to the endpoint; else None."""
    layer = scope["app"].state.catalog.get(scope["path_params"]["layer"])
    if layer is None:
        return None
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs) or "" in query.values():
        return None  # repeated or empty parameters: FastAPI's rules for those apply
    if not query.keys() <= COMMON | attribute_names(layer):
        return None  # FastAPI's route refuses them (after its own validation)
    limit, offset = query.get("limit"), query.get("offset", "0")
    if limit is not None and not (_DIGITS.fullmatch(limit) and int(limit) >= 1):
        return None
    if not (_DIGITS.fullmatch(offset) and int(offset) <= MAX_OFFSET):
        return None
    return _Fitting(layer, None if limit is None else int(limit), int(offset), query)


class ItemsFastRoute(Route):
    """Matches the items path only for the requests ``_fitting`` accepts."""

    def __init__(self) -> None:
        super().__init__(PATH, _items, methods=["GET"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FULL for a fitting GET; NONE otherwise, so the router goes on to the FastAPI route."""
        match, child = super().matches(scope)
        if match is not Match.FULL:
            return Match.NONE, {}
        fitting = _fitting({**scope, **child})
        if fitting is None:
            return Match.NONE, {}
        return match, {**child, _SCOPE_KEY: fitting}


_SCOPE_KEY = "mapsvc.items_fitting"


def _items(request: Request) -> Response:
    # Sync: Starlette runs it on the thread pool, as FastAPI runs ``get_items`` (one hop).
    app: Any = request.app
    request.state.route_template = PATH  # the metrics' label, as ``note_route`` sets it
    fitting: _Fitting = request.scope[_SCOPE_KEY]
    query = build_items_request(
        request,
        fitting.layer,
        limit=fitting.limit,
        offset=fitting.offset,
        strings=fitting.strings,
    )
    with read_session_outside_routes(app) as session:
        return items_response(request, session, app.state.settings, query)
