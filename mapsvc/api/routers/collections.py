"""Layers as OGC API collections, and their published features."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from layers import CATEGORY_TITLES, LayerDefinition
from mapsvc.api.deps import BBoxDep, CatalogDep, LayerDep, SessionDep, SettingsDep
from mapsvc.api.responses import FastJSONResponse, GeoJSONResponse
from mapsvc.db import queries
from mapsvc.db.queries import FeatureQuery
from mapsvc.errors import InvalidParameter
from mapsvc.services.features import feature_page, resolve_municipality

router = APIRouter(prefix="/api", tags=["collections"])


def _collection(request: Request, layer: LayerDefinition, count: int) -> dict[str, Any]:
    items = str(request.url_for("items", layer=layer.id))
    return {
        "id": layer.id,
        "title": layer.title.ja,
        "description": layer.description.ja if layer.description else layer.title.en,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            {"rel": "items", "type": "application/geo+json", "href": items},
            {
                "rel": "license",
                "type": "text/html",
                "href": str(layer.source.license.url),
                "title": layer.source.license.name,
            },
        ],
        "numberPublished": count,
        # The catalog entry as data, for the viewer: ja/en titles, style, labels, licence.
        "layer": layer.model_dump(mode="json")
        | {"category_title": dict(zip(("ja", "en"), CATEGORY_TITLES[layer.category], strict=True))},
    }


@router.get("/collections", response_class=FastJSONResponse)
def list_collections(request: Request, session: SessionDep, catalog: CatalogDep) -> dict[str, Any]:
    """Every layer of the catalog, including those with no published data yet."""
    counts = queries.count_published(session)
    return {
        "collections": [
            _collection(request, layer, counts.get(layer.id, 0)) for layer in catalog.values()
        ],
        "links": [{"rel": "self", "type": "application/json", "href": str(request.url)}],
    }


@router.get("/collections/{layer}", response_class=FastJSONResponse)
def get_collection(request: Request, session: SessionDep, layer: LayerDep) -> dict[str, Any]:
    """One layer's metadata."""
    return _collection(request, layer, queries.count_published(session).get(layer.id, 0))


@router.get("/collections/{layer}/items", name="items", response_class=GeoJSONResponse)
def get_items(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    bbox: BBoxDep,
    limit: Annotated[int | None, Query(ge=1, description="features per page")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    municipality: Annotated[
        str | None, Query(description="6-digit code; a ward clips its city")
    ] = None,
) -> GeoJSONResponse:
    """The layer's published features as an RFC 7946 FeatureCollection, paged."""
    limit = limit or settings.api.default_limit
    if limit > settings.api.max_limit:
        raise InvalidParameter(
            f"limit は {settings.api.max_limit} 以下にしてください",
            f"limit must be at most {settings.api.max_limit}",
        )
    owner, ward = resolve_municipality(session, municipality) if municipality else (None, None)
    query = FeatureQuery(layer.id, limit, offset, bbox, owner, ward)
    links = [
        {"rel": "self", "type": "application/geo+json", "href": str(request.url)},
        {
            "rel": "next",
            "type": "application/geo+json",
            "href": str(request.url.include_query_params(offset=offset + limit, limit=limit)),
        },
    ]
    page = feature_page(session, query, links)
    return GeoJSONResponse(page.body)
