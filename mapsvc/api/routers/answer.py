"""The answer any chat service can send: as JSON, as plain text, or as a LINE Flex Message."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from mapsvc.api.caching import cache_headers, etag_for
from mapsvc.api.deps import CatalogDep, ReadSessionDep
from mapsvc.api.line_flex import flex_message
from mapsvc.api.params import reject_unknown
from mapsvc.api.responses import FastJSONResponse
from mapsvc.api.routers.places import SpotDep
from mapsvc.services.answer import answer_at

router = APIRouter(prefix="/api", tags=["places"])


@router.get("/answer", response_class=FastJSONResponse)
def answer(
    request: Request,
    session: ReadSessionDep,
    catalog: CatalogDep,
    here: SpotDep,
    hazard: Annotated[
        str | None,
        Query(
            description="an evacuation-site hazard flag (flood, tsunami, storm_surge, landslide…); "
            "default: the municipality's emergency's, else the worst found here"
        ),
    ] = None,
    lang: Annotated[Literal["ja", "en"], Query(description="the text's language")] = "ja",
    format: Annotated[
        Literal["json", "text", "line"],
        Query(
            description="json: the parts and the text; text: the text; line: a LINE Flex Message"
        ),
    ] = "json",
) -> Response:
    """For one hazard at a point, in at most five lines: what applies and what to do.

    What to do names whose guidance it is; then the municipality's emergency message and the
    nearest site its municipality reports open for that hazard, with distance and a walking route.

    Built from the same answer as ``/api/point`` (the viewer's). Where no status is published the
    answer says so ("開設状況は未発表") and names the nearest designated site as not known to be
    open; a drill's or a test's status is never taken for real.
    """
    reject_unknown(request, {"lon", "lat", "hazard", "lang", "format"})
    layers = list(catalog)
    etag = etag_for(request, session, layers)
    body: dict[str, Any] = answer_at(session, catalog, here, hazard)
    text = "\n".join(body["lines"][lang])
    if format == "text":
        response: Response = PlainTextResponse(text)
    elif format == "line":
        response = FastJSONResponse(flex_message(body, lang))
    else:
        response = FastJSONResponse(body | {"lang": lang, "text": text})
    return cache_headers(response, etag, layers)
