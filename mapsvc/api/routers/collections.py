"""Layers as OGC API collections, their published features, and single features."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from mapsvc.api.caching import cache_headers, etag_for, publication_state
from mapsvc.api.deps import (
    CatalogDep,
    LayerDep,
    ReadSessionDep,
    SettingsDep,
    read_session_outside_routes,
)
from mapsvc.api.params import (
    crs_param,
    items_request,
    reject_unknown,
    status_mode,
    status_params,
)
from mapsvc.api.responses import (
    COLLECTION_SCHEMA,
    FEATURE_SCHEMA,
    FastJSONResponse,
    GeoJSONResponse,
    geojson_body,
)
from mapsvc.services.collections import (
    catalog_layers,
    one_collection,
    published_collections,
    queryables_schema,
)
from mapsvc.services.features import ItemsRequest, PageLinks, one_item, page_of_items

router = APIRouter(prefix="/api", tags=["collections"])
ItemsRequestDep = Annotated[ItemsRequest, Depends(items_request)]


def _base(request: Request) -> str:
    return str(request.url_for("landing")).rstrip("/")


def _links(request: Request, layer_id: str) -> PageLinks:
    def page_href(offset: int, limit: int) -> str:
        return str(request.url.include_query_params(offset=offset, limit=limit))

    collection = str(request.url_for("collections")) + f"/{layer_id}"
    return PageLinks(str(request.url), collection, page_href)


@router.get("/collections", response_class=FastJSONResponse, name="collections")
def list_collections(
    request: Request, session: ReadSessionDep, catalog: CatalogDep
) -> FastJSONResponse:
    """Every layer with published data, as a feature collection (the full catalog: /api/layers)."""
    reject_unknown(request, {"f"})
    etag = etag_for(request, session, list(catalog))
    body = {
        "collections": published_collections(session, catalog, _base(request)),
        "links": [{"rel": "self", "type": "application/json", "href": str(request.url)}],
    }
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]


@router.get("/layers", response_class=FastJSONResponse, name="layers")
def list_layers(request: Request, session: ReadSessionDep, catalog: CatalogDep) -> FastJSONResponse:
    """The whole catalog, including layers no municipality has published yet (count 0)."""
    etag = etag_for(request, session, list(catalog))
    body = {"layers": catalog_layers(session, catalog, _base(request))}
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]


@router.get("/collections/{layer}", response_class=FastJSONResponse)
def get_collection(request: Request, session: ReadSessionDep, layer: LayerDep) -> FastJSONResponse:
    """One layer's metadata: extent, CRSs, licence and attribution, links."""
    reject_unknown(request, {"f"})
    etag = etag_for(request, session, [layer.id])
    body = one_collection(session, layer, _base(request))
    return cache_headers(FastJSONResponse(body), etag)  # type: ignore[return-value]


@router.get(
    "/collections/{layer}/items",
    name="items",
    response_class=GeoJSONResponse,
    responses=geojson_body(COLLECTION_SCHEMA),
)
def get_items(request: Request, settings: SettingsDep, query: ItemsRequestDep) -> GeoJSONResponse:
    """The layer's published features as RFC 7946 GeoJSON, paged; ``<attribute>=value`` filters."""
    # The API's busiest uncached request opens its read session here rather than through
    # ReadSessionDep: FastAPI enters and leaves each sync generator dependency on the thread
    # pool, four hops besides this endpoint's own. Its parameters and the layer are async
    # dependencies, solved without a hop.
    publications = publication_state(request.app)
    with read_session_outside_routes(request.app) as session:
        etag = etag_for(request, session, [query.layer.id])
        body = page_of_items(
            session,
            query,
            links=_links(request, query.layer.id),
            default_limit=settings.api.default_limit,
            max_limit=settings.api.max_limit,
            publications=publications,
        )
    response = GeoJSONResponse(body, headers={"Content-Crs": f"<{query.crs.uri}>"})
    return cache_headers(response, etag, [query.layer.id])  # type: ignore[return-value]


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
    body = queryables_schema(layer, str(request.url))
    return FastJSONResponse(body, media_type="application/schema+json")


@router.get(
    "/collections/{layer}/items/{feature_id}",
    response_class=GeoJSONResponse,
    responses=geojson_body(FEATURE_SCHEMA),
)
def get_item(
    request: Request,
    session: ReadSessionDep,
    layer: LayerDep,
    feature_id: str,
    crs: Annotated[str | None, Query(description="output CRS URI (default CRS84)")] = None,
) -> GeoJSONResponse:
    """One feature by its stable id (``<municipality>-<source ID>``)."""
    reject_unknown(request, {"f", "crs"} | status_params(layer))
    output = crs_param(crs)
    etag = etag_for(request, session, [layer.id])
    body = one_item(
        session,
        layer,
        feature_id,
        crs=output,
        links=_links(request, layer.id),
        publications=publication_state(request.app),
        status_mode=status_mode(request),
    )
    response = GeoJSONResponse(body, headers={"Content-Crs": f"<{output.uri}>"})
    return cache_headers(response, etag, [layer.id])  # type: ignore[return-value]
