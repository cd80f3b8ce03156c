"""Vector tiles (OGC API – Tiles, WebMercatorQuad) per collection and for several at once."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from layers import LayerDefinition
from mapsvc.api.caching import cache_headers, etag_for
from mapsvc.api.deps import CatalogDep, LayerDep, ReadSessionDep
from mapsvc.api.params import reject_unknown
from mapsvc.api.responses import FastJSONResponse
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.services import tilesets
from mapsvc.services.tiles import MAX_ZOOM, TileRequest, display_layers, display_tile, layer_tile
from mapsvc.services.tilesets import MVT, TMS

router = APIRouter(prefix="/api", tags=["tiles"])


async def tile_request(z: Annotated[int, Path(ge=0, le=MAX_ZOOM)], y: int, x: int) -> TileRequest:
    """The path's tile position (tileMatrix/tileRow/tileCol, as OGC API – Tiles orders them)."""
    return TileRequest(z=z, x=x, y=y)


TileDep = Annotated[TileRequest, Depends(tile_request)]


def _mvt(body: bytes, etag: str) -> Response:
    return cache_headers(Response(body, media_type=MVT, status_code=200 if body else 204), etag)


def _links(request: Request, layer: LayerDefinition) -> tilesets.TilesetLinks:
    base = str(request.url_for("landing")).rstrip("/")
    return tilesets.TilesetLinks(
        tileset=str(request.url_for("tileset", layer=layer.id)),
        tile_matrix_set=str(request.url_for("tile_matrix_set", tms=TMS)),
        tile_template=f"{base}/collections/{layer.id}/tiles/{TMS}/"
        "{tileMatrix}/{tileRow}/{tileCol}",
    )


@router.get("/collections/{layer}/tiles", response_class=FastJSONResponse)
def list_tilesets(request: Request, layer: LayerDep) -> dict[str, Any]:
    """The tilesets of a collection (one: WebMercatorQuad vector tiles), OGC API – Tiles."""
    reject_unknown(request, {"f"})
    return {"tilesets": [tilesets.tileset_summary(layer, _links(request, layer))]}


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
    links = _links(request, layer)
    return tilesets.tilejson(layer, links) if f == "tilejson" else tilesets.tileset(layer, links)


@router.get("/tileMatrixSets", response_class=FastJSONResponse, name="tile_matrix_sets")
def tile_matrix_sets(request: Request) -> dict[str, Any]:
    """The tile matrix sets served (one: WebMercatorQuad)."""
    reject_unknown(request, {"f"})
    href = str(request.url_for("tile_matrix_set", tms=TMS))
    return {"tileMatrixSets": tilesets.tile_matrix_sets(href)}


@router.get("/tileMatrixSets/{tms}", response_class=FastJSONResponse, name="tile_matrix_set")
def tile_matrix_set(request: Request, tms: str) -> dict[str, Any]:
    """The WebMercatorQuad definition, so clients need not fetch it from the OGC's site."""
    reject_unknown(request, {"f"})
    if tms != TMS:
        raise NotFound("そのタイル行列セットはありません", f"No tile matrix set {tms!r}")
    return tilesets.tile_matrix_set()


@router.get(f"/collections/{{layer}}/tiles/{TMS}/{{z}}/{{y}}/{{x}}", response_class=Response)
def collection_tile(
    request: Request, session: ReadSessionDep, layer: LayerDep, tile: TileDep
) -> Response:
    """One MVT tile of a collection, each feature with its id, name and class."""
    reject_unknown(request, set())
    etag = etag_for(request, session, [layer.id])
    return _mvt(layer_tile(session, layer, tile), etag)


@router.get(f"/tiles/{TMS}/{{z}}/{{y}}/{{x}}", response_class=Response)
def multi_tile(
    request: Request,
    session: ReadSessionDep,
    catalog: CatalogDep,
    tile: TileDep,
    collections: Annotated[str, Query(description="comma-separated layer ids (at most 16)")],
) -> Response:
    """One tile holding several collections, one MVT layer each: what the viewer draws.

    Display tiles: each feature's geometry and ``class`` only (no id or name), as small as a
    phone on a mobile network needs; the per-collection tiles carry ids and names.
    """
    reject_unknown(request, {"collections"})
    layers = display_layers(catalog, collections)
    etag = etag_for(request, session, [layer.id for layer in layers])
    return _mvt(display_tile(session, layers, replace(tile, display=True)), etag)
