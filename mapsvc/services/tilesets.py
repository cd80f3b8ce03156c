"""OGC API – Tiles metadata: the tile matrix set (from morecantile), tilesets and TileJSON."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import morecantile

from layers import GeometryType, LayerDefinition

TMS = "WebMercatorQuad"
MVT = "application/vnd.mapbox-vector-tile"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
GEOMETRY_DIMENSION = {GeometryType.POINT: 0, GeometryType.LINE: 1, GeometryType.POLYGON: 2}
TILE_FIELDS = ("id", "name", "class")  # what a collection's tile carries per feature


@cache
def tile_matrix_set() -> dict[str, Any]:
    """The OGC 2D Tile Matrix Set document of WebMercatorQuad (OGC 17-083r4), as morecantile has it."""
    return morecantile.tms.get(TMS).model_dump(exclude_none=True, mode="json")


@dataclass(frozen=True)
class TilesetLinks:
    """The URLs a tileset document points at (the front end knows its routes)."""

    tileset: str
    tile_matrix_set: str
    tile_template: str  # with {tileMatrix}, {tileRow}, {tileCol}


def tileset_summary(layer: LayerDefinition, links: TilesetLinks) -> dict[str, Any]:
    """A layer's entry in a tilesets list."""
    tms = tile_matrix_set()
    return {
        "title": layer.title.ja,
        "dataType": "vector",
        "crs": tms["crs"],
        "tileMatrixSetURI": tms["uri"],
        "links": [
            {"rel": "self", "type": "application/json", "href": links.tileset},
            {"rel": TILING_SCHEME, "type": "application/json", "href": links.tile_matrix_set},
        ],
    }


def tileset(layer: LayerDefinition, links: TilesetLinks) -> dict[str, Any]:
    """The OGC tileset metadata: the templated tile link, zoom limits, the one vector layer."""
    body = tileset_summary(layer, links)
    body["links"] += [
        {"rel": "item", "type": MVT, "href": links.tile_template, "templated": True},
        {
            "rel": "alternate",
            "type": "application/json",
            "href": f"{links.tileset}?f=tilejson",
            "title": "TileJSON",
        },
    ]
    matrices = {m["id"]: m for m in tile_matrix_set()["tileMatrices"]}
    return body | {
        "description": layer.title.en,
        "attribution": layer.source.attribution.ja,
        "license": layer.source.license.name,
        "tileMatrixSetLimits": [
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": matrices[str(z)]["matrixHeight"] - 1,
                "minTileCol": 0,
                "maxTileCol": matrices[str(z)]["matrixWidth"] - 1,
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
                    "properties": {n: {"type": "string"} for n in TILE_FIELDS},
                },
            }
        ],
    }


def tilejson(layer: LayerDefinition, links: TilesetLinks) -> dict[str, Any]:
    """TileJSON 3.0, for MapLibre and other web map libraries."""
    template = (
        links.tile_template.replace("{tileMatrix}", "{z}")
        .replace("{tileRow}", "{y}")
        .replace("{tileCol}", "{x}")
    )
    return {
        "tilejson": "3.0.0",
        "name": layer.id,
        "description": layer.title.en,
        "tiles": [template],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "attribution": layer.source.attribution.ja,
        "vector_layers": [
            {
                "id": layer.id,
                "fields": dict.fromkeys(TILE_FIELDS, "String"),
                "minzoom": layer.minzoom,
                "maxzoom": layer.maxzoom,
            }
        ],
    }


def tile_matrix_sets(href: str) -> list[dict[str, Any]]:
    """The tile matrix sets served (one), each with its link."""
    tms = tile_matrix_set()
    return [
        {
            "id": tms["id"],
            "title": tms["title"],
            "uri": tms["uri"],
            "links": [{"rel": "self", "type": "application/json", "href": href}],
        }
    ]
