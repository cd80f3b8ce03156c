"""Positions written only inside a map link (``…?ll=34.709088%2C135.507789``).

Many municipal lists have them so: the site's web-map URL is the one place its coordinates
appear.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

_PAIR = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
_AT = re.compile(r"@(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")  # Google Maps paths: /@34.70,135.50,17z
_OSM = re.compile(r"map=\d+/(-?\d+(?:\.\d+)?)/(-?\d+(?:\.\d+)?)")  # OpenStreetMap: #map=17/lat/lon


def _latitude_first(text: str) -> tuple[float, float] | None:
    match = _PAIR.match(text)
    if match is None:
        return None
    lat, lon = float(match[1]), float(match[2])
    return lon, lat


def position_in_link(value: object) -> tuple[float, float] | None:
    """(longitude, latitude) found in a map URL, or None when it holds none.

    Understood: ``ll=lat,lon`` and ``q=lat,lon`` (マップナビおおさか, Google Maps), ``mpx``/``mpy``
    (lon/lat, マップナビ's other form), ``lat``/``lon`` (or ``lng``), ``@lat,lon`` in the path and
    OpenStreetMap's ``#map=zoom/lat/lon``.

    >>> position_in_link("http://www.mapnavi.city.osaka.lg.jp/webgis/?z=17&ll=34.709088%2C135.507789&mp=1")
    (135.507789, 34.709088)
    >>> position_in_link("http://www.mapnavi.city.osaka.lg.jp/webgis/?mpx=135.5151930715&mpy=34.671647558954")
    (135.5151930715, 34.671647558954)
    >>> position_in_link("https://www.openstreetmap.org/#map=18/34.6873/135.5262")
    (135.5262, 34.6873)
    >>> position_in_link("大阪市北区扇町1") is None
    True
    """
    text = "" if value is None else str(value).strip()
    if "://" not in text:
        return None
    parts = urlsplit(text)
    query = {k.lower(): v[0] for k, v in parse_qs(parts.query).items()}
    for key in ("ll", "q", "center"):
        if key in query and (found := _latitude_first(query[key])):
            return found
    for x, y in (("mpx", "mpy"), ("lon", "lat"), ("lng", "lat")):
        if x in query and y in query:
            try:
                return float(query[x]), float(query[y])
            except ValueError:
                return None
    for pattern in (_AT, _OSM):
        if match := pattern.search(unquote(parts.path + "#" + parts.fragment)):
            return float(match[2]), float(match[1])
    return None
