"""Shelter status: its collection and writes (OGC API – Features Part 4), EEI's CSV, emergencies.

A change is ``PATCH`` (the fields given) or ``PUT`` (all of them) of one item, by a key with the
``status`` right for the site's municipality, and must name the state it changes in ``If-Match``
(the item's strong ETag): 428 without it, 412 when someone changed the site first. A client may
send ``Idempotency-Key`` (a UUID) to retry a change safely: the retry gets the first answer.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from mapsvc.api.caching import (
    STATUS_CACHE_CONTROL,
    cache_headers,
    etag_for,
    matches_if_none_match,
)
from mapsvc.api.deps import CatalogDep, PrincipalDep, ReadSessionDep, SessionDep
from mapsvc.api.params import parse_bbox, reject_unknown
from mapsvc.api.responses import FastJSONResponse, GeoJSONResponse
from mapsvc.errors import InvalidParameter
from mapsvc.services import emergencies, shelter_status, status_open_data
from mapsvc.services.keys import authorize
from mapsvc.services.municipalities import resolve_scope
from mapsvc.services.shelter_status import STATUS_LAYERS
from mapsvc.services.status_open_data import COLLECTION, StatusItemsRequest, StatusLinks

router = APIRouter(prefix="/api", tags=["shelter status"])
ITEMS = f"/collections/{COLLECTION}/items"
ITEM = ITEMS + "/{item}"
ITEM_ID = Path(
    description="<layer>:<municipality>-<site key>, e.g. evacuation_sites:272027-E2720200003201"
)
MODE = Query(description="real (本番, default), drill (訓練) or test (テスト)")
# Properties of an item a client may send back as it read them in a PUT: derived, ignored.
READ_ONLY = frozenset(
    {
        "layer",
        "municipality",
        "site",
        "name",
        "crowding",
        "crowdingLabel",
        "statusLabel",
        "statusUpdated",
        "mode",
        "opened",
        "closed",
        "revision",
    }
)
CHANGE_BODY = Body(
    description="The status fields to change (status, accepting, evacuees, capacity, note), "
    "or a GeoJSON Feature whose properties hold them",
    examples=[{"status": "open", "evacuees": 12}],
)


def KeySite(action: str) -> Any:
    """The path's site as (layer, code, key), once the key's role may ``action`` there (403)."""

    def allowed(principal: PrincipalDep, item: Annotated[str, ITEM_ID]) -> tuple[str, str, str]:
        site = shelter_status.parse_item_id(item)
        authorize(principal, action, site[1])
        return site

    return Depends(allowed)


# Declared once: every write takes its site through this, so the scope cannot be forgotten.
StatusSiteDep = Annotated[tuple[str, str, str], KeySite("status")]


def _links(request: Request) -> StatusLinks:
    collections = str(request.url_for("collections"))
    items = f"{collections}/{COLLECTION}/items"

    def page_href(offset: int, limit: int) -> str:
        return str(request.url.include_query_params(offset=offset, limit=limit))

    return StatusLinks(
        self_href=str(request.url),
        collection_href=f"{collections}/{COLLECTION}",
        page_href=page_href,
        item_href=lambda identifier: f"{items}/{identifier}",
        site_href=lambda layer, feature_id: f"{collections}/{layer}/items/{feature_id}",
    )


def _status_headers(response: Response, etag: str) -> Response:
    return cache_headers(response, etag, STATUS_LAYERS)


@router.get(f"/collections/{COLLECTION}", response_class=FastJSONResponse)
def get_status_collection(request: Request, session: ReadSessionDep) -> Response:
    """The collection of the sites' status (OGC API – Features)."""
    reject_unknown(request, {"f"})
    etag = etag_for(request, session, STATUS_LAYERS)
    body = status_open_data.collection(session, str(request.url_for("landing")).rstrip("/"))
    return _status_headers(FastJSONResponse(body), etag)


@router.get(ITEMS, response_class=GeoJSONResponse)
def get_status_items(
    request: Request,
    session: ReadSessionDep,
    catalog: CatalogDep,
    mode: Annotated[str, MODE] = "real",
    layer: Annotated[str | None, Query(description="evacuation_sites or shelters")] = None,
    municipality: Annotated[str | None, Query(description="6-digit code")] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in CRS84")] = None,
    datetime: Annotated[
        str | None,
        Query(description="an instant: the state then; an interval a/b: the sites changed in it"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Each published site's status in a mode, at its point; ``datetime`` reads the timeline."""
    reject_unknown(
        request, {"f", "mode", "layer", "municipality", "bbox", "datetime", "limit", "offset"}
    )
    etag = etag_for(request, session, STATUS_LAYERS)
    wanted = StatusItemsRequest(
        mode=mode,
        layer=layer,
        municipality=resolve_scope(session, municipality).owner,
        bbox=parse_bbox(bbox, 4326),
        datetime=datetime,
        limit=limit,
        offset=offset,
    )
    body = status_open_data.items(session, catalog, wanted, _links(request))
    return _status_headers(GeoJSONResponse(body), etag)


@router.get(ITEM, response_class=GeoJSONResponse)
def get_status_item(
    request: Request,
    session: ReadSessionDep,
    catalog: CatalogDep,
    item: Annotated[str, ITEM_ID],
    mode: Annotated[str, MODE] = "real",
) -> Response:
    """One site's status with its strong ETag: send it back in ``If-Match`` to change it."""
    reject_unknown(request, {"f", "mode"})
    shelter_status.check_mode(mode)
    body, etag = status_open_data.item(
        session, catalog, shelter_status.parse_item_id(item), mode=mode, links=_links(request)
    )
    if matches_if_none_match(request.headers.get("if-none-match", ""), etag):
        return Response(
            status_code=304, headers={"ETag": etag, "Cache-Control": STATUS_CACHE_CONTROL}
        )
    return _status_headers(GeoJSONResponse(body), etag)


def _fields(body: Any) -> dict[str, Any]:
    """The status fields of a change body: the object itself or a Feature's properties."""
    if isinstance(body, dict) and body.get("type") == "Feature":
        if body.get("geometry") is not None:
            raise InvalidParameter(
                "位置は公開データのものです。開設状況の変更で位置は変えられません",
                "A site's position comes from its published data: a status change cannot move it",
            )
        body = body.get("properties") or {}
    if not isinstance(body, dict):
        raise InvalidParameter(
            "本文は変更する項目の JSON オブジェクトです", "The body is a JSON object of the fields"
        )
    return {k: v for k, v in body.items() if k not in READ_ONLY}


def _change_id(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidParameter(
            "Idempotency-Key は UUID です", "Idempotency-Key must be a UUID"
        ) from None


CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match names a state that is no longer current"},
    428: {"description": "If-Match is missing"},
}


def change_status_item(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    principal: PrincipalDep,
    site: StatusSiteDep,
    body: Annotated[dict[str, Any], CHANGE_BODY],
    if_match: Annotated[str | None, Header(description="the item's ETag")] = None,
    idempotency_key: Annotated[str | None, Header(description="a UUID per change")] = None,
    mode: Annotated[str, MODE] = "real",
) -> Response:
    """Change one site's status (needs the ``status`` right there).

    PATCH changes the fields given; PUT all of them (what it leaves out goes back to its
    default).
    """
    reject_unknown(request, {"mode"})
    changed = shelter_status.change(
        session,
        catalog,
        principal.actor,
        *site,
        _fields(body),
        mode=mode,
        if_match=if_match,
        change_id=_change_id(idempotency_key),
        require_if_match=True,
        replace=request.method == "PUT",
    )
    answer, etag = status_open_data.item(
        session, catalog, site, mode=mode, links=_links(request), state=changed
    )
    return GeoJSONResponse(answer, headers={"ETag": etag, "Cache-Control": "no-store"})


for method in ("PATCH", "PUT"):  # one operation each in the OpenAPI document, one handler
    router.add_api_route(
        ITEM,
        change_status_item,
        methods=[method],
        name=f"{method.lower()}_status_item",
        response_class=GeoJSONResponse,
        responses=CHANGE_RESPONSES,
    )


@router.get(
    "/shelter-status.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def get_status_csv(
    request: Request,
    session: ReadSessionDep,
    catalog: CatalogDep,
    municipality: Annotated[str | None, Query(description="6-digit code")] = None,
    mode: Annotated[str, MODE] = "real",
) -> Response:
    """Every published site and its status in EEI v1.1 item 21's column order, for Excel."""
    reject_unknown(request, {"municipality", "mode"})
    etag = etag_for(request, session, STATUS_LAYERS, variant="csv")
    owner = resolve_scope(session, municipality).owner
    body = status_open_data.eei_csv(session, catalog, code=owner, mode=mode)
    response = Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="shelter-status.csv"'},
    )
    return _status_headers(response, etag)


@router.get("/emergencies", response_class=FastJSONResponse)
def get_emergencies(
    request: Request,
    session: ReadSessionDep,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in CRS84")] = None,
    municipality: Annotated[str | None, Query(description="6-digit code")] = None,
    mode: Annotated[str, MODE] = "real",
) -> Response:
    """The municipalities' disaster modes on now (the viewer's banner), where the box reaches."""
    reject_unknown(request, {"bbox", "municipality", "mode"})
    etag = etag_for(request, session, STATUS_LAYERS, variant="emergencies")
    owner = resolve_scope(session, municipality).owner
    found = emergencies.active(
        session,
        codes=[owner] if owner else None,
        bbox=parse_bbox(bbox, 4326),
        mode=shelter_status.check_mode(mode),
    )
    body = {"emergencies": [e.as_json() for e in found]}
    return _status_headers(FastJSONResponse(body), etag)
