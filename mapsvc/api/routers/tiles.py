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
MAX_ZOOM = 22  # the catalog bounds every layer's maxzoom by the same
Zoom = Annotated[int, Path(ge=0, le=MAX_ZOOM)]


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


TMS = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
WEB_MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
GEOMETRY_DIMENSION = {GeometryType.POINT: 0, GeometryType.LINE: 1, GeometryType.POLYGON: 2}
# WebMercatorQuad (OGC 17-083r4 Annex D): 256-pixel tiles, origin at the top-left corner.
HALF_WORLD_M = 20037508.3427892
ZOOM_0_CELL_M = 156543.03392804097
ZOOM_0_SCALE = 559082264.0287178


def _tileset_summary(request: Request, layer: LayerDefinition) -> dict[str, Any]:
    return {
        "title": layer.title.ja,
        "dataType": "vector",
        "crs": WEB_MERCATOR,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "href": str(request.url_for("tileset", layer=layer.id)),
            },
            {
                "rel": TILING_SCHEME,
                "type": "application/json",
                "href": str(request.url_for("tile_matrix_set", tms=TMS)),
            },
        ],
    }


@router.get("/collections/{layer}/tiles", response_class=FastJSONResponse)
def tilesets(request: Request, layer: LayerDep) -> dict[str, Any]:
    """The tilesets of a collection (one: WebMercatorQuad vector tiles), OGC API – Tiles."""
    reject_unknown(request, {"f"})
    return {"tilesets": [_tileset_summary(request, layer)]}


@router.get(f"/collections/{{layer}}/tiles/{TMS}", response_class=FastJSONResponse, name="tileset")
def tileset(
    request: Request,
    layer: LayerDep,
    f: Annotated[str | None, Query(description="json (OGC tileset) or tilejson")] = None,
) -> dict[str, Any]:
    """The tileset's metadata (OGC 2D Tile Matrix Set and Tileset Metadata), or TileJSON 3.0.

    The tile template is the ``item`` link; tiles outside the layer's zoom range are empty.
    """
    reject_unknown(request, {"f"})
    if f not in (None, "json", "tilejson"):
        raise InvalidParameter("f は json か tilejson です", "f is json or tilejson")
    base = str(request.url_for("landing")).rstrip("/")
    template = f"{base}/collections/{layer.id}/tiles/{TMS}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    if f == "tilejson":
        return _tilejson(layer, template)
    body = _tileset_summary(request, layer)
    body["links"] += [
        {"rel": "item", "type": MVT, "href": template, "templated": True},
        {
            "rel": "alternate",
            "type": "application/json",
            "href": f"{body['links'][0]['href']}?f=tilejson",
            "title": "TileJSON",
        },
    ]
    return body | {
        "description": layer.title.en,
        "attribution": layer.source.attribution.ja,
        "license": layer.source.license.name,
        "tileMatrixSetLimits": [
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": 2**z - 1,
                "minTileCol": 0,
                "maxTileCol": 2**z - 1,
            }
            for z in range(layer.minzoom, layer.maxzoom + 1)
        ],
        "layers": [
            {
                "id": layer.id,
                "dataType": "vector",
                "geometryDimension": GEOMETRY_DIMENSION[layer.geometry_type],
                "minTileMatrix": str(layer.minzoom),
                "maxTileMatrix": str(layer.maxzoom),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {n: {"type": "string"} for n in ("id", "name", "class")},
                },
            }
        ],
    }


def _tilejson(layer: LayerDefinition, template: str) -> dict[str, Any]:
    """TileJSON 3.0, for MapLibre and other web map libraries."""
    return {
        "tilejson": "3.0.0",
        "name": layer.id,
        "description": layer.title.en,
        "tiles": [
            template.replace("{tileMatrix}", "{z}")
            .replace("{tileRow}", "{y}")
            .replace("{tileCol}", "{x}")
        ],
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


@router.get("/tileMatrixSets", response_class=FastJSONResponse, name="tile_matrix_sets")
def tile_matrix_sets(request: Request) -> dict[str, Any]:
    """The tile matrix sets served (one: WebMercatorQuad)."""
    reject_unknown(request, {"f"})
    href = str(request.url_for("tile_matrix_set", tms=TMS))
    return {
        "tileMatrixSets": [
            {
                "id": TMS,
                "title": "Google Maps Compatible for the World",
                "uri": TMS_URI,
                "links": [{"rel": "self", "type": "application/json", "href": href}],
            }
        ]
    }


@router.get("/tileMatrixSets/{tms}", response_class=FastJSONResponse, name="tile_matrix_set")
def tile_matrix_set(request: Request, tms: str) -> dict[str, Any]:
    """The WebMercatorQuad definition, so clients need not fetch it from the OGC's site."""
    reject_unknown(request, {"f"})
    if tms != TMS:
        raise NotFound("そのタイル行列セットはありません", f"No tile matrix set {tms!r}")
    return {
        "id": TMS,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": WEB_MERCATOR,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [
            {
                "id": str(z),
                "scaleDenominator": ZOOM_0_SCALE / 2**z,
                "cellSize": ZOOM_0_CELL_M / 2**z,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD_M, HALF_WORLD_M],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
    }


@router.get(f"/collections/{{layer}}/tiles/{TMS}/{{z}}/{{y}}/{{x}}", response_class=Response)
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
