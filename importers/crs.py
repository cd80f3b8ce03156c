"""Reprojection to EPSG:4326 with cached, axis-order-safe transformers."""

from __future__ import annotations

from functools import lru_cache

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from importers.base import ImportRejected, Issue

WGS84 = 4326
CRS84 = CRS.from_user_input("OGC:CRS84")  # WGS84 in lon/lat order: no EPSG code of its own
# Datums that coincide with WGS84 within a metre at web-map scale: no transformation needed.
SAME_AS_WGS84 = {4326, 6668, 4612}


def in_japan(lat: float, lon: float) -> bool:
    """Whether a latitude/longitude pair lies in Japan's ranges (latitude 20-46, longitude 122-154).

    The two ranges do not overlap, so a pair that fits only the other way round was swapped.

    >>> in_japan(34.46, 135.37), in_japan(135.37, 34.46)
    (True, False)
    """
    return 20 <= lat <= 46 and 122 <= lon <= 154


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
    ...                          "JGD2011 / Japan Plane Rectangular CS VI", "OGC:CRS84")]
    [4301, 4301, 6674, 6674, 4326]
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
    if code is None and crs.equals(CRS84):
        return WGS84  # the same axes once transformers are always_xy
    if code is None:
        raise ValueError(text)
    return int(code)


def unknown_crs(found: str) -> ImportRejected:
    """The rejection of a file whose declared CRS cannot be read, naming it and what works."""
    shown = found if len(found) <= 120 else found[:117] + "…"
    return ImportRejected.because(
        "unknown_crs",
        f"ファイルの座標系「{shown}」を読めません。世界測地系（緯度経度 EPSG:6668、平面直角座標系 "
        "EPSG:6669〜6687）か WGS84（EPSG:4326）で保存し直すか、座標系を指定してください",
        f"The file's coordinate reference system {shown!r} is unknown: save it in JGD2011 "
        "(EPSG:6668, or plane-rectangular EPSG:6669-6687) or WGS84 (EPSG:4326), or give the CRS",
        value=shown,
    )


def check_area(srid: int, bounds: tuple[float, float, float, float], expected: list[int]) -> None:
    """Reject a CRS whose area of use misses ``bounds`` (lon/lat): the data would land elsewhere.

    ``expected`` lists the CRSs that suit the place (its plane zone, JGD2011, WGS84).

    Examples
    --------
    >>> kishiwada = (135.3, 34.4, 135.5, 34.5)
    >>> check_area(6674, kishiwada, [6674, 6668, 4326])  # zone VI covers Osaka
    >>> check_area(6669, kishiwada, [6674, 6668, 4326])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    importers.base.ImportRejected: ... EPSG:6669 (... CS I), ...: expected EPSG:6674, EPSG:6668, EPSG:4326
    """
    crs = CRS.from_epsg(srid)
    area = crs.area_of_use
    if area is None:
        return
    west, south, east, north = area.bounds
    if west <= bounds[2] and bounds[0] <= east and south <= bounds[3] and bounds[1] <= north:
        return
    names = ", ".join(f"EPSG:{code}" for code in dict.fromkeys(expected))
    raise ImportRejected.because(
        "crs_outside_area",
        f"ファイルの座標系 EPSG:{srid}（{crs.name}）はこの市区町村では使われません。{names} のいずれかで"
        "保存し直すか、正しい座標系を指定してください",
        f"The file's coordinates are in EPSG:{srid} ({crs.name}), which is not used here: "
        f"expected {names}",
        value=f"EPSG:{srid}",
    )


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
