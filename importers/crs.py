"""Reprojection to EPSG:4326 with cached, axis-order-safe transformers."""

from __future__ import annotations

from functools import lru_cache

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = 4326
# Datums that coincide with WGS84 within a metre at web-map scale: no transformation needed.
SAME_AS_WGS84 = {4326, 6668, 4612}


@lru_cache(maxsize=32)
def transformer(srid: int) -> Transformer:
    """A transformer from ``srid`` to EPSG:4326 in x/y (lon/lat) order, cached per code.

    Ballpark operations are refused: for the Tokyo Datum they would shift points by 0 m instead of
    the ~450 m the datum really differs by in Osaka.

    Examples
    --------
    >>> from pyproj import Geod
    >>> lon, lat = transformer(4301).transform(135.5023, 34.6937)  # Tokyo Datum -> WGS84
    >>> round(lon, 4), round(lat, 4)
    (135.4995, 34.6969)
    >>> round(Geod(ellps="GRS80").inv(135.5023, 34.6937, lon, lat)[2])  # metres moved
    444
    """
    return Transformer.from_crs(
        CRS.from_epsg(srid), CRS.from_epsg(WGS84), always_xy=True, allow_ballpark=False
    )


def to_wgs84(geometry: BaseGeometry, srid: int) -> BaseGeometry:
    """Return ``geometry`` in EPSG:4326 (lon/lat); ``srid`` is the CRS it is in now.

    Examples
    --------
    >>> import shapely
    >>> point = to_wgs84(shapely.Point(-45380.0, -145880.0), 6674)  # zone VI: easting, northing
    >>> round(point.x, 4), round(point.y, 4)
    (135.5047, 34.684)
    """
    if srid in SAME_AS_WGS84:
        return geometry
    project = transformer(srid).transform
    # The stubs know only the interleaved form; with interleaved=False shapely calls f(x, y).
    return shapely.transform(geometry, project, interleaved=False)  # type: ignore[arg-type]


def srid_of(crs: str | None) -> int:
    """The EPSG code of a CRS description (``EPSG:6668``, a WKT, a URN); 4326 when absent.

    Examples
    --------
    >>> srid_of("urn:ogc:def:crs:EPSG::6668"), srid_of("EPSG:6674"), srid_of(None)
    (6668, 6674, 4326)
    """
    if not crs:
        return WGS84
    code = CRS.from_user_input(crs).to_epsg(min_confidence=70)
    if code is None:
        raise ValueError(crs)
    return int(code)
