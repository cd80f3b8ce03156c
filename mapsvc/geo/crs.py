"""The CRSs the API serves (OGC API Features Part 2), by URI, with their axis order."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pyproj import CRS, Transformer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"


@dataclass(frozen=True)
class OutputCrs:
    """A CRS a client may ask for.

    ``north_first``: its first axis is latitude or northing, so coordinates are flipped from
    PostGIS's x/y; ``decimals``: what is worth sending (0.1 m in degrees, 1 cm in metres).
    """

    uri: str
    srid: int
    north_first: bool
    decimals: int


# WGS84 lon/lat (the default), WGS84 and JGD2011 lat/lon, the plane-rectangular zones around
# Osaka (V Hyogo, VI Osaka/Kyoto/Nara…, VII), and Web Mercator. Plane-rectangular X is north.
SUPPORTED: tuple[OutputCrs, ...] = (
    OutputCrs(CRS84, 4326, False, 6),
    OutputCrs(EPSG_URI.format(4326), 4326, True, 6),
    OutputCrs(EPSG_URI.format(6668), 6668, True, 6),
    OutputCrs(EPSG_URI.format(6673), 6673, True, 2),
    OutputCrs(EPSG_URI.format(6674), 6674, True, 2),
    OutputCrs(EPSG_URI.format(6675), 6675, True, 2),
    OutputCrs(EPSG_URI.format(3857), 3857, False, 2),
)
BY_URI = {crs.uri: crs for crs in SUPPORTED}
DEFAULT = SUPPORTED[0]


def parse_crs(value: str | None) -> OutputCrs | None:
    """The CRS named by a URI (or ``EPSG:n``/``[EPSG:n]``); None when it is not served."""
    if value is None:
        return DEFAULT
    text = value.strip().strip("[]")
    if text.upper().startswith("EPSG:"):
        text = EPSG_URI.format(text[5:])
    return BY_URI.get(text)


Box = tuple[float, float, float, float]


@cache
def area_of_use(srid: int) -> Box:
    """Where the CRS may be used, in its own x/y units (pyproj's area, transformed)."""
    west, south, east, north = CRS.from_epsg(srid).area_of_use.bounds  # type: ignore[union-attr]
    if srid == 4326:
        return west, south, east, north
    to_crs = Transformer.from_crs(4326, srid, always_xy=True)
    x0, y0, x1, y1 = to_crs.transform_bounds(west, south, east, north)
    return float(x0), float(y0), float(x1), float(y1)


def clip_box(box: Box, srid: int) -> Box | None:
    """``box`` (x/y, in ``srid``) cut to the CRS's area of use; None when they do not meet.

    A box far outside (``-9.9e7 … 9.9e7`` in Web Mercator) would otherwise make the database
    segmentize and reproject millions of metres of outline.

    >>> clip_box((-9.9e7, -9.9e7, 9.9e7, 9.9e7), 3857)[0] > -2.1e7
    True
    >>> clip_box((1e7, 1e7, 2e7, 2e7), 6674) is None  # plane zone VI covers central Japan only
    True
    """
    area = area_of_use(srid)
    clipped = (
        max(box[0], area[0]),
        max(box[1], area[1]),
        min(box[2], area[2]),
        min(box[3], area[3]),
    )
    if clipped[0] > clipped[2] or clipped[1] > clipped[3]:
        return None
    return clipped
