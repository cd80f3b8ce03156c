"""Point questions: the nearest features of a layer, and what applies at a spot."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from mapsvc.api.caching import cache_headers, etag_for, publication_state
from mapsvc.api.deps import CatalogDep, ReadSessionDep, SettingsDep
from mapsvc.api.params import attribute_filters, attribute_names, reject_unknown
from mapsvc.api.responses import COLLECTION_SCHEMA, FastJSONResponse, GeoJSONResponse, geojson_body
from mapsvc.errors import InvalidParameter
from mapsvc.services.here import what_is_here
from mapsvc.services.open_sites import hazard_filter, open_collection
from mapsvc.services.places import NearestRequest, Spot, nearest_collection
from mapsvc.services.search import search_all

router = APIRouter(prefix="/api", tags=["places"])


async def spot(
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude (WGS84)")],
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude (WGS84)")],
) -> Spot:
    """The ``lon``/``lat`` parameters as a spot in Japan (else 400)."""
    return Spot(lon, lat)


SpotDep = Annotated[Spot, Depends(spot)]


@router.get("/nearest", response_class=GeoJSONResponse, responses=geojson_body(COLLECTION_SCHEMA))
def nearest(
    request: Request,
    session: ReadSessionDep,
    catalog: CatalogDep,
    here: SpotDep,
    layer: Annotated[str, Query(description="layer id, e.g. evacuation_sites")],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    order: Annotated[
        Literal["availability", "distance"],
        Query(description="availability: those that may be absent (a fire-engine AED) last"),
    ] = "availability",
    open: Annotated[
        bool,
        Query(description="only sites their municipality reports open (or permanent), for real"),
    ] = False,
    hazard: Annotated[
        str | None,
        Query(description="only sites designated for this hazard (a flag: flood, tsunami…)"),
    ] = None,
) -> GeoJSONResponse:
    """The nearest published features with their geodesic distance.

    ``<attribute>=value`` filters, e.g. ``flood=true`` for flood evacuation sites. Features the
    layer says may not be there when needed (an AED on a fire engine, or in a building closed at
    night: the layer's ``may_be_absent`` flags) come after the ``limit`` nearest that are always
    there: at most ``limit`` of them, only those nearer than the last of those (so up to twice
    ``limit`` in all). ``order=distance``: the ``limit`` nearest, whatever they are.

    ``open=true``: only sites whose current real status is open or permanent (never a drill's),
    each with its status properties; ``openStatus`` says ``open``, ``none_open`` (statuses are
    published near here, none open) or ``not_published`` (開設状況は未発表), with a ja/en
    ``note``. ``hazard=flood`` is ``flood=true``: sites designated for that hazard.
    """
    definition = catalog[layer]
    known = {"lon", "lat", "layer", "limit", "order", "open", "hazard"}
    reject_unknown(request, known | attribute_names(definition))
    wanted = NearestRequest(
        layer=definition,
        spot=here,
        limit=limit,
        equals=attribute_filters(request, definition) | hazard_filter(definition, hazard),
        order=order,
        open_only=open,
    )
    etag = etag_for(request, session, [layer])
    collect = open_collection if open else nearest_collection
    body = collect(session, wanted, publication_state(request.app))
    return cache_headers(GeoJSONResponse(body), etag, [layer])  # type: ignore[return-value]


@router.get("/point", response_class=FastJSONResponse)
def point(
    request: Request, session: ReadSessionDep, catalog: CatalogDep, here: SpotDep
) -> FastJSONResponse:
    """What is here: the municipality and ward, and each hazard layer's answer.

    The class in force, "outside", or "no_data" where nothing is published (never a false "safe").
    """
    reject_unknown(request, {"lon", "lat"})
    etag = etag_for(request, session, list(catalog))
    body: dict[str, Any] = what_is_here(session, catalog, here)
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]


@router.get("/search", response_class=FastJSONResponse)
def search(
    request: Request,
    session: ReadSessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="name or address")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> FastJSONResponse:
    """Facilities by name or address, municipalities or wards by name, and an address's town.

    Full-width and half-width characters match each other (NFKC), as do upper and lower case.
    ``address`` places the text as an address at its 大字・町丁目 (with or without prefecture and
    municipality; 丁目 as ``2-11-8``, ``２丁目`` or ``二丁目``): ``found``, ``ambiguous`` (the
    candidate towns) or ``not_found`` (with the towns spelled most alike when nothing else was
    found); always approximate.
    """
    reject_unknown(request, {"q", "limit"})
    if not q.strip():
        raise InvalidParameter(
            "検索する語を入力してください", "Type a name or address to search for"
        )
    etag = etag_for(request, session, list(catalog))
    body: dict[str, Any] = search_all(
        session, catalog, text=q, limit=limit, seed_manifest=settings.seed_manifest
    )
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]
