"""Vector tile use cases: one layer's tile, or several layers' display tiles in one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from layers import Catalog, GeometryType, LayerDefinition
from mapsvc.db import tiles
from mapsvc.errors import InvalidParameter

FEATURES_PER_TILE = 5000
MAX_ZOOM = 22  # the catalog bounds every layer's maxzoom by the same
MAX_LAYERS_PER_TILE = 16
# A display tile keeps one point per pixel cell and class: DISPLAY_EXTENT / 256 = 2 tile units
# are one CSS pixel of a 256-pixel tile, and the dots drawn are at least 4 pixels wide, so a
# point dropped lay under one kept. At z10 over central Osaka this removes a fifth of the points.
DISPLAY_POINT_GRID = tiles.DISPLAY_EXTENT // 256


@dataclass(frozen=True, kw_only=True)
class TileRequest:
    """A tile position in WebMercatorQuad (checked to exist on construction).

    ``display``: geometry and class only, for drawing (about half the bytes for points), and
    points that would share a pixel drawn once; otherwise each feature is there with its
    public id and name.
    """

    z: int
    x: int
    y: int
    display: bool = False

    def __post_init__(self) -> None:
        if not (0 <= self.z <= MAX_ZOOM and 0 <= self.x < 2**self.z and 0 <= self.y < 2**self.z):
            raise InvalidParameter(
                "タイル番号が範囲外です", f"Tile {self.z}/{self.y}/{self.x} does not exist"
            )


def layer_tile(session: Session, layer: LayerDefinition, request: TileRequest) -> bytes:
    """One layer's MVT tile; empty outside the layer's zoom range (not an error)."""
    if not (layer.minzoom <= request.z <= layer.maxzoom):
        return b""
    return tiles.tile(
        session,
        layer_id=layer.id,
        points=layer.geometry_type is GeometryType.POINT,
        label="" if request.display else layer.name_attribute,
        klass=layer.style.class_attribute or "",
        z=request.z,
        x=request.x,
        y=request.y,
        cap=FEATURES_PER_TILE,
        ids=not request.display,
        grid=DISPLAY_POINT_GRID if request.display else 0,
    )


def display_layers(catalog: Catalog, names: str) -> list[LayerDefinition]:
    """The layers of a ``collections=a,b`` list: 1 to 16 catalog ids, repeats dropped."""
    ids = list(dict.fromkeys(n for n in names.split(",") if n))
    if not ids or len(ids) > MAX_LAYERS_PER_TILE:
        raise InvalidParameter(
            f"collections は1〜{MAX_LAYERS_PER_TILE}個です",
            f"collections takes 1 to {MAX_LAYERS_PER_TILE} layer ids",
        )
    return [catalog[i] for i in ids]  # an unknown id raises the catalog's LayerNotFound


def display_tile(
    session: Session, layers: Sequence[LayerDefinition], request: TileRequest
) -> bytes:
    """One tile holding several layers, one MVT layer each (MVT layers concatenate)."""
    return b"".join(layer_tile(session, layer, request) for layer in layers)
