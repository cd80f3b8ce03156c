"""Reprojection to EPSG:4326 with cached, axis-order-safe transformers."""

from __future__ import annotations

from functools import lru_cache

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from importers.base import Issue

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


def parse_srid(value: str | int) -> int:
    """The EPSG code of a CRS however people write it, checked to exist.

    Parameters
    ----------
    value
        ``4301``, ``"EPSG:4301"``, ``"urn:ogc:def:crs:EPSG::6674"``, an OGC URL, or a name
        (``"JGD2011 / Japan Plane Rectangular CS VI"``).

    Raises
    ------
    ValueError
        If pyproj cannot build the CRS or it has no EPSG code.

    Examples
    --------
    >>> [parse_srid(v) for v in (4301, "EPSG:4301", "urn:ogc:def:crs:EPSG::6674",
    ...                          "JGD2011 / Japan Plane Rectangular CS VI")]
    [4301, 4301, 6674, 6674]
    >>> parse_srid("EPSG:99999")
    Traceback (most recent call last):
    ...
    ValueError: EPSG:99999
    """
    text = str(value).strip()
    try:
        crs = CRS.from_epsg(int(text)) if text.isdigit() else CRS.from_user_input(text)
    except CRSError:
        raise ValueError(text) from None
    code = crs.to_epsg(min_confidence=70)
    if code is None:
        raise ValueError(text)
    return int(code)


def datum_note(srid: int, x: float, y: float) -> Issue | None:
    """A warning for coordinates on the Tokyo Datum (旧日本測地系): how they were moved, how well.

    ``x``, ``y`` is a point of the file in ``srid``: PROJ picks the operation by area. GSI's
    TKY2JGD grid is not available offline, so a Helmert transformation is used (about 9 m around
    Osaka, where the datums are ~450 m apart).

    Examples
    --------
    >>> note = datum_note(4301, 135.5023, 34.6937)
    >>> note.code, note.value, "Tokyo to WGS 84" in note.message_en
    ('tokyo_datum', 'EPSG:4301', True)
    >>> datum_note(6674, -45380.0, -145880.0) is None
    True
    """
    crs = CRS.from_epsg(srid)
    if crs.datum is None or "Tokyo" not in crs.datum.name:
        return None
    # A transformer of its own: the last operation used is per object, and the cached one is shared.
    probe = Transformer.from_crs(crs, CRS.from_epsg(WGS84), always_xy=True, allow_ballpark=False)
    probe.transform(x, y)
    operation = probe.get_last_used_operation()
    steps = [s for s in operation.description.split(" + ") if "axis order" not in s]
    name = " + ".join(steps) or operation.description
    accuracy = f"{operation.accuracy:g} m" if operation.accuracy > 0 else "unknown"
    return Issue(
        "tokyo_datum",
        f"旧日本測地系（EPSG:{srid}）の座標を「{name}」で世界測地系に変換しました（精度 約{accuracy}）。"
        "国土地理院の TKY2JGD は使っていません。より正確な位置が必要なら世界測地系（JGD2011）のデータをご用意ください",
        f"Coordinates on the Tokyo Datum (EPSG:{srid}) were converted with {name!r} (accurate to "
        f"about {accuracy}); GSI's TKY2JGD grid is not used: for better positions, provide JGD2011 "
        "coordinates",
        value=f"EPSG:{srid}",
    )


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
