"""Vector tiles (OGC API – Tiles, WebMercatorQuad) per collection and for several at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from layers import GeometryType, LayerDefinition
from mapsvc.api.caching import cache_headers, etag_for
from mapsvc.api.deps import CatalogDep, LayerDep, SessionDep
from mapsvc.api.params import reject_unknown
from mapsvc.api.responses import FastJSONResponse
from mapsvc.db import tiles
from mapsvc.errors import InvalidParameter, NotFound

router = APIRouter(prefix="/api", tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"
FEATURES_PER_TILE = 5000
Zoom = Annotated[int, Path(ge=0, le=22)]


def _check(z: int, x: int, y: int) -> None:
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidParameter("タイル番号が範囲外です", f"Tile {z}/{y}/{x} does not exist")


def _layer_tile(
    session: Any, layer: LayerDefinition, z: int, x: int, y: int, *, display: bool = False
) -> bytes:
    """``display``: geometry and class only, for drawing (about half the bytes for points)."""
    if not (layer.minzoom <= z <= layer.maxzoom):
        return b""  # outside the layer's zoom range: an empty tile, not an error
    return tiles.tile(
        session,
        layer.id,
        layer.geometry_type is GeometryType.POINT,
        "" if display else layer.name_attribute,
        layer.style.class_attribute or "",
        z,
        x,
        y,
        FEATURES_PER_TILE,
        ids=not display,
    )


def _mvt(body: bytes, etag: str) -> Response:
    return cache_headers(Response(body, media_type=MVT, status_code=200 if body else 204), etag)


@router.get("/collections/{layer}/tiles", response_class=FastJSONResponse)
def tilesets(request: Request, layer: LayerDep) -> dict[str, Any]:
    """The tilesets of a collection (one: WebMercatorQuad vector tiles)."""
    href = str(request.url_for("tilejson", layer=layer.id))
    return {
        "tilesets": [
            {
                "title": layer.title.ja,
                "dataType": "vector",
                "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
                "links": [{"rel": "self", "type": "application/json", "href": href}],
            }
        ]
    }


@router.get(
    "/collections/{layer}/tiles/WebMercatorQuad", response_class=FastJSONResponse, name="tilejson"
)
def tilejson(request: Request, layer: LayerDep) -> dict[str, Any]:
    """TileJSON 3.0 for the collection's vector tiles."""
    base = str(request.url_for("landing")).rstrip("/")
    return {
        "tilejson": "3.0.0",
        "name": layer.id,
        "description": layer.title.en,
        "tiles": [f"{base}/collections/{layer.id}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "attribution": layer.source.attribution.ja,
        "vector_layers": [
            {
                "id": layer.id,
                "fields": {"id": "String", "name": "String", "class": "String"},
                "minzoom": layer.minzoom,
                "maxzoom": layer.maxzoom,
            }
        ],
    }


@router.get("/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}", response_class=Response)
def collection_tile(
    request: Request, session: SessionDep, layer: LayerDep, z: Zoom, y: int, x: int
) -> Response:
    """One MVT tile of a collection (tileMatrix/tileRow/tileCol, as OGC API – Tiles orders them)."""
    reject_unknown(request, set())
    _check(z, x, y)
    etag = etag_for(request, session, [layer.id])
    return _mvt(_layer_tile(session, layer, z, x, y), etag)


@router.get("/tiles/WebMercatorQuad/{z}/{y}/{x}", response_class=Response)
def multi_tile(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    z: Zoom,
    y: int,
    x: int,
    collections: Annotated[str, Query(description="comma-separated layer ids (at most 16)")],
) -> Response:
    """One tile holding several collections, one MVT layer each: what the viewer draws.

    Display tiles: each feature's geometry and ``class`` only (no id or name), as small as a
    phone on a mobile network needs; the per-collection tiles carry ids and names.
    """
    reject_unknown(request, {"collections"})
    _check(z, x, y)
    names = list(dict.fromkeys(n for n in collections.split(",") if n))
    if not names or len(names) > 16:
        raise InvalidParameter("collections は1〜16個です", "collections takes 1 to 16 layer ids")
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise NotFound("そのレイヤーはありません", f"No layer(s) {', '.join(unknown)}")
    etag = etag_for(request, session, names)
    body = b"".join(
        _layer_tile(session, catalog[n], z, x, y, display=True) for n in names
    )  # MVT layers concatenate
    return _mvt(body, etag)
