"""Fit the wards of a designated city into the city's exact outline.

Only simplified ward boundaries exist (N03's full-resolution wards are not bundled), while the
city's outline is exact. Used as they are, a point could lie in the city but in no ward (or in a
ward outside the city), and the answer's municipality and ward would disagree. So each ward is
clipped to the exact outline, and every piece of the outline that no ward covers (a gap along
the border, a landfill the simplification dropped) goes, point by point, to the nearest ward:
the gaps are split along the Voronoi cells of points spaced along the wards' edges.

Measured on the 2,850 town points of Osaka City and Sakai City (``tests/api/test_point_towns.py``):
the right ward for 97.9 % of them, against 97.3 % with the simplified wards alone. Wards built
instead from the town points' Voronoi cells got 93 % right on the half of the points they were
not built from.
"""

from __future__ import annotations

import math

import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

EDGE_STEP_DEG = 0.0005  # ~50 m between the edge points that share out the gaps


def _only_polygons(geometry: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def fit_wards(city: BaseGeometry, wards: dict[str, BaseGeometry]) -> dict[str, BaseGeometry]:
    """Each ward inside ``city`` (lon/lat), the wards tiling it without gaps or overlaps.

    A ward the simplification left empty inside the city keeps what the gaps give it (maybe
    nothing: then it is not in the result).
    """
    # Degrees of longitude are shorter than of latitude: "nearest" is measured on a grid scaled
    # to equal lengths (cos of the city's latitude), then scaled back.
    squeeze = math.cos(math.radians(city.centroid.y))
    origin = (0.0, 0.0)
    flat_city = affinity.scale(city, xfact=squeeze, yfact=1.0, origin=origin)
    clipped: dict[str, BaseGeometry] = {}
    taken: BaseGeometry = shapely.Polygon()
    for code in sorted(wards):
        flat = affinity.scale(wards[code], xfact=squeeze, yfact=1.0, origin=origin)
        piece = _only_polygons(flat.intersection(flat_city).difference(taken))
        if not piece.is_empty:
            clipped[code] = piece
            taken = taken.union(piece)
    gap = _only_polygons(flat_city.difference(taken))
    if not gap.is_empty and clipped:
        for code, extra in _share_out(gap, clipped).items():
            clipped[code] = _only_polygons(clipped[code].union(extra))
    # Scaling back can cross two edges that met at a vertex (by a rounding error): repair.
    return {
        code: _only_polygons(
            shapely.make_valid(affinity.scale(piece, xfact=1 / squeeze, yfact=1.0, origin=origin))
        )
        for code, piece in clipped.items()
    }


def _share_out(gap: BaseGeometry, wards: dict[str, BaseGeometry]) -> dict[str, BaseGeometry]:
    """Split ``gap`` among ``wards``: each part of it goes to the ward whose edge is nearest."""
    owner: dict[tuple[float, float], str] = {}  # a point on two wards' shared edge: either will do
    for code, ward in wards.items():
        edge = shapely.segmentize(ward.boundary, EDGE_STEP_DEG)
        for x, y in shapely.get_coordinates(edge):
            owner.setdefault((float(x), float(y)), code)
    seeds = shapely.MultiPoint(list(owner))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(seeds, extend_to=shapely.union(gap, seeds).envelope, ordered=True)
    )
    touching = shapely.STRtree(cells).query(gap, predicate="intersects")
    codes = list(owner.values())
    pieces: dict[str, list[BaseGeometry]] = {}
    for i in touching:
        pieces.setdefault(codes[i], []).append(cells[i].intersection(gap))
    shares = {code: _only_polygons(shapely.union_all(parts)) for code, parts in pieces.items()}
    return {code: share for code, share in shares.items() if not share.is_empty}
