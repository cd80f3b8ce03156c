"""Layers as OGC API collections, their published features, and single features."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from mapsvc.api.caching import cache_headers, etag_for
from mapsvc.api.deps import CatalogDep, LayerDep, SessionDep, SettingsDep
from mapsvc.api.params import (
    COMMON,
    attribute_filters,
    attribute_names,
    crs_param,
    parse_bbox,
    parse_properties,
    parse_sortby,
    reject_unknown,
)
from mapsvc.api.responses import (
    COLLECTION_SCHEMA,
    FEATURE_SCHEMA,
    FastJSONResponse,
    GeoJSONResponse,
    geojson_body,
)
from mapsvc.db import features, queries
from mapsvc.db.features import FeatureQuery
from mapsvc.db.filters import to_condition
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.services.cql2 import parse_filter
from mapsvc.services.features import collection, feature_item, feature_page, resolve_municipality

router = APIRouter(prefix="/api", tags=["collections"])


def _base(request: Request) -> str:
    return str(request.url_for("landing")).rstrip("/")


@router.get("/collections", response_class=FastJSONResponse, name="collections")
def list_collections(
    request: Request, session: SessionDep, catalog: CatalogDep
) -> FastJSONResponse:
    """Every layer with published data, as a feature collection (the full catalog: /api/layers)."""
    reject_unknown(request, {"f"})
    etag = etag_for(request, session, list(catalog))
    publications = queries.published(session)
    base = _base(request)
    body = {
        "collections": [
            collection(
                layer, publications[layer.id], features.layer_extent(session, layer.id), base
            )
            for layer in catalog.values()
            if layer.id in publications
        ],
        "links": [{"rel": "self", "type": "application/json", "href": str(request.url)}],
    }
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]


@router.get("/layers", response_class=FastJSONResponse, name="layers")
def list_layers(request: Request, session: SessionDep, catalog: CatalogDep) -> FastJSONResponse:
    """The whole catalog, including layers no municipality has published yet (count 0)."""
    etag = etag_for(request, session, list(catalog))
    publications = queries.published(session)
    base = _base(request)
    nothing = queries.Publication()
    body = {
        "layers": [
            collection(layer, publications.get(layer.id, nothing), None, base)
            for layer in catalog.values()
        ]
    }
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]


@router.get("/collections/{layer}", response_class=FastJSONResponse)
def get_collection(request: Request, session: SessionDep, layer: LayerDep) -> FastJSONResponse:
    """One layer's metadata: extent, CRSs, licence and attribution, links."""
    reject_unknown(request, {"f"})
    etag = etag_for(request, session, [layer.id])
    publication = queries.published(session).get(layer.id, queries.Publication())
    body = collection(layer, publication, features.layer_extent(session, layer.id), _base(request))
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]


@router.get(
    "/collections/{layer}/items",
    name="items",
    response_class=GeoJSONResponse,
    responses=geojson_body(COLLECTION_SCHEMA),
)
def get_items(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy (in bbox-crs; default CRS84)")
    ] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="output CRS URI (default CRS84)")] = None,
    limit: Annotated[int | None, Query(ge=1, description="features per page")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    properties: Annotated[
        str | None, Query(description="comma-separated attributes to return")
    ] = None,
    sortby: Annotated[str | None, Query(description="+attribute,-attribute")] = None,
    municipality: Annotated[
        str | None, Query(description="6-digit code; a ward clips its city")
    ] = None,
    datetime: Annotated[str | None, Query(description="accepted; the layers carry no time")] = None,  # noqa: ARG001
    filter: Annotated[str | None, Query(description="CQL2 filter (see /queryables)")] = None,
    filter_lang: Annotated[
        str | None, Query(alias="filter-lang", description="cql2-text or cql2-json")
    ] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
) -> GeoJSONResponse:
    """The layer's published features as RFC 7946 GeoJSON, paged; ``<attribute>=value`` filters."""
    reject_unknown(request, COMMON | attribute_names(layer))
    limit = limit or settings.api.default_limit
    if limit > settings.api.max_limit:
        raise InvalidParameter(
            f"limit は {settings.api.max_limit} 以下にしてください",
            f"limit must be at most {settings.api.max_limit}",
        )
    output = crs_param(crs)
    box_crs = crs_param(bbox_crs, "bbox-crs")
    etag = etag_for(request, session, [layer.id])
    owner, ward = resolve_municipality(session, municipality) if municipality else (None, None)
    box = parse_bbox(bbox, box_crs.srid)
    if box is not None and box_crs.north_first:  # the client's order: latitude (northing) first
        box = (box[1], box[0], box[3], box[2])
    condition = None
    if filter is not None:
        condition = to_condition(
            parse_filter(filter, filter_lang), layer, crs_param(filter_crs, "filter-crs")
        )
    query = FeatureQuery(
        layer.id,
        limit,
        offset,
        box,
        box_crs.srid,
        owner,
        ward,
        attribute_filters(request, layer),
        parse_sortby(sortby, layer),
        parse_properties(properties, layer),
        output,
        condition,
    )
    links = [
        {"rel": "self", "type": "application/geo+json", "href": str(request.url)},
        {
            "rel": "collection",
            "type": "application/json",
            "href": str(request.url_for("collections")) + f"/{layer.id}",
        },
    ]
    if offset:
        previous = request.url.include_query_params(offset=max(0, offset - limit), limit=limit)
        links.append({"rel": "prev", "type": "application/geo+json", "href": str(previous)})
    next_href = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    page = feature_page(session, query, links, next_href)
    response = GeoJSONResponse(page.body, headers={"Content-Crs": f"<{output.uri}>"})
    return cache_headers(response, etag)  # type: ignore[return-value]


@router.get(
    "/collections/{layer}/queryables",
    response_class=FastJSONResponse,
    responses={
        200: {
            "content": {"application/schema+json": {"schema": {"type": "object"}}},
            "description": "JSON Schema",
        }
    },
)
def queryables(request: Request, layer: LayerDep) -> FastJSONResponse:
    """The properties a filter may use, as JSON Schema (OGC API Features Part 3)."""
    kinds = {"flag": "boolean", "integer": "integer", "number": "number"}
    properties: dict[str, Any] = {"geometry": {"$ref": "https://geojson.org/schema/Geometry.json"}}
    for attribute in layer.attributes:
        schema: dict[str, Any] = {
            "title": attribute.label.ja,
            "description": attribute.label.en,
            "type": kinds.get(attribute.type.value, "string"),
        }
        if attribute.values:
            schema["enum"] = [v.value for v in attribute.values]
        properties[attribute.name] = schema
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": str(request.url),
        "type": "object",
        "title": layer.title.ja,
        "properties": properties,
        "additionalProperties": False,
    }
    return FastJSONResponse(body, media_type="application/schema+json")


@router.get(
    "/collections/{layer}/items/{feature_id}",
    response_class=GeoJSONResponse,
    responses=geojson_body(FEATURE_SCHEMA),
)
def get_item(
    request: Request,
    session: SessionDep,
    layer: LayerDep,
    feature_id: str,
    crs: Annotated[str | None, Query(description="output CRS URI (default CRS84)")] = None,
) -> GeoJSONResponse:
    """One feature by its stable id (``<municipality>-<source ID>``)."""
    reject_unknown(request, {"f", "crs"})
    output = crs_param(crs)
    etag = etag_for(request, session, [layer.id])
    collection_href = str(request.url_for("collections")) + f"/{layer.id}"
    links = [
        {"rel": "self", "type": "application/geo+json", "href": str(request.url)},
        {"rel": "collection", "type": "application/json", "href": collection_href},
    ]
    if len(feature_id) > 200:
        raise NotFound("その地物はありません", f"No feature {feature_id[:40]!r}…")
    body = feature_item(session, layer, feature_id, output, links)
    return cache_headers(GeoJSONResponse(body, headers={"Content-Crs": f"<{output.uri}>"}), etag)  # type: ignore[return-value]
