"""The CRSs the API serves (OGC API Features Part 2), by URI, with their axis order."""

from __future__ import annotations

from dataclasses import dataclass

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
