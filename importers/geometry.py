"""Geometry rules shared by every format: finite, non-empty, valid, of the layer's kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from layers import GeometryType

_MULTI: dict[GeometryType, tuple[str, Callable[[list[Any]], BaseGeometry]]] = {
    GeometryType.POINT: ("Point", shapely.MultiPoint),
    GeometryType.LINE: ("LineString", shapely.MultiLineString),
    GeometryType.POLYGON: ("Polygon", shapely.MultiPolygon),
}


class GeometryError(ValueError):
    """The geometry breaks a rule; ``code`` names which, the messages say what to fix (ja, en)."""

    def __init__(self, code: str, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en


def check_finite(geometry: BaseGeometry | None) -> BaseGeometry:
    """Refuse missing, empty, NaN and Infinity geometries; return the geometry otherwise.

    >>> import shapely
    >>> check_finite(shapely.Point(135.37, 34.46)).wkt
    'POINT (135.37 34.46)'
    >>> check_finite(shapely.Point(float("nan"), 34.46))
    Traceback (most recent call last):
    ...
    importers.geometry.GeometryError: Coordinates contain NaN or Infinity
    """
    if geometry is None or geometry.is_empty:
        raise GeometryError("empty_geometry", "位置（座標）がありません", "The row has no location")
    if not np.isfinite(shapely.get_coordinates(geometry)).all():
        raise GeometryError(
            "non_finite_coordinates",
            "座標に数値でない値（NaN・Infinity）があります",
            "Coordinates contain NaN or Infinity",
        )
    return geometry


def conform(
    geometry: BaseGeometry, kind: GeometryType, *, repair: bool
) -> tuple[BaseGeometry, bool]:
    """Make ``geometry`` fit a layer of ``kind``: valid, Multi*, polygons counter-clockwise.

    Returns the geometry and whether it had to be repaired.

    Raises
    ------
    GeometryError
        If it is of another kind, or invalid while ``repair`` is off.

    Examples
    --------
    >>> import shapely
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    >>> fixed, repaired = conform(bowtie, GeometryType.POLYGON, repair=True)
    >>> fixed.geom_type, fixed.is_valid, repaired
    ('MultiPolygon', True, True)
    """
    single, multi = _MULTI[kind]
    repaired = False
    if not geometry.is_valid:
        if not repair:
            raise GeometryError(
                "invalid_geometry",
                f"図形が不正です（{shapely.is_valid_reason(geometry)}）",
                f"The shape is invalid ({shapely.is_valid_reason(geometry)})",
            )
        geometry = shapely.make_valid(geometry)
        repaired = True
    # Two passes flatten Multi* and collections of Multi* (what make_valid can return).
    parts = list(shapely.get_parts(shapely.get_parts(geometry)))
    fitting = [p for p in parts if p.geom_type == single]
    # A repair may leave slivers of a lower dimension, which are dropped; otherwise any part of
    # another kind means the file holds the wrong kind of data for this layer.
    if not fitting or (not repaired and len(fitting) != len(parts)):
        word = {"Point": "点", "LineString": "線", "Polygon": "面"}[single]
        raise GeometryError(
            "wrong_geometry_type",
            f"このレイヤーには{word}の図形が必要です（{geometry.geom_type}）",
            f"This layer needs {single} geometries, not {geometry.geom_type}",
        )
    parts = fitting
    if kind is GeometryType.POLYGON:
        parts = [orient(p, sign=1.0) for p in parts]  # RFC 7946: exterior rings counter-clockwise
    if kind is GeometryType.POINT and len(parts) == 1:
        return parts[0], repaired  # points stay single: most point data has one location per row
    return multi(parts), repaired
