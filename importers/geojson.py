"""Read GeoJSON (Feature or FeatureCollection, with or without a legacy ``crs`` member)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.crs import parse_srid, unknown_crs
from importers.gdal import read_layer
from importers.options import ImportOptions

_JS_WRAPPER = re.compile(
    rb"^\s*(?:var|let|const|window\.|export)\b|^\s*[A-Za-z_$][\w$.]*\s*=\s*[{\[]"
)


def check_geojson(data: bytes) -> None:
    """Refuse what is not GeoJSON text, with the most useful reason.

    Examples
    --------
    >>> check_geojson(b'{"type": "FeatureCollection", "features": []}')
    >>> check_geojson(b"var shelters = {};")
    Traceback (most recent call last):
    ...
    importers.base.ImportRejected: This is JavaScript, not GeoJSON: remove the leading "var name =" and the trailing ";"
    """
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if not head:
        raise ImportRejected.because("empty_file", "ファイルが空です", "The file is empty")
    if _JS_WRAPPER.match(head):
        raise ImportRejected(
            Issue(
                "javascript_not_geojson",
                "JavaScriptのファイルです。先頭の「var 名前 =」と末尾の「;」を消して GeoJSON にしてください",
                'This is JavaScript, not GeoJSON: remove the leading "var name =" and the trailing ";"',
                value=head[:40].decode("utf-8", "replace"),
            )
        )
    if head[:1] != b"{":
        raise ImportRejected(
            Issue(
                "not_geojson",
                "GeoJSONファイルではありません（先頭が { ではありません）",
                "This is not a GeoJSON file (it does not start with {)",
            )
        )


# The legacy member {"crs": {"type": "name", "properties": {"name": "..."}}}, looked for before
# "features" (where every exporter writes it): GDAL takes an unknown name for WGS84 silently.
_LEGACY_CRS = re.compile(
    rb'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]{1,500})"'
)


def _legacy_crs(data: bytes) -> int | None:
    """The EPSG code of the legacy ``crs`` member, None without one; unknown ones are rejected."""
    head = data[: data.find(b'"features"')] if b'"features"' in data else data[:65536]
    found = _LEGACY_CRS.search(head)
    if found is None:
        return None
    name = found.group(1).decode("utf-8", "replace")
    try:
        return parse_srid(name)
    except ValueError:
        raise unknown_crs(name) from None


def read_geojson(
    data: bytes,
    options: ImportOptions | None = None,
    report: ImportReport | None = None,  # noqa: ARG001 - the Reader signature
) -> Iterator[RawRecord]:
    """Yield one record per feature, in file order, with the file's CRS.

    GDAL's GeoJSON driver honours the legacy ``crs`` member (KSJ and QGIS exports carry
    ``urn:ogc:def:crs:EPSG::6668``), rejects NaN, and reads the file in one pass.

    Parameters
    ----------
    data
        A GeoJSON FeatureCollection or Feature (UTF-8).
    options, report
        Unused: the reader signature every format shares.

    Yields
    ------
    RawRecord
        ``row`` is the feature's 1-based position; ``srid`` the file's CRS (4326 by default).

    Raises
    ------
    ImportRejected
        If the bytes are not GeoJSON GDAL can read.

    Examples
    --------
    >>> import json
    >>> feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [135.37, 34.46]},
    ...            "properties": {"名称": "市役所"}}
    >>> data = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    >>> [(r.row, r.srid, r.geometry.wkt, dict(r.properties)) for r in read_geojson(data)]
    [(1, 4326, 'POINT (135.37 34.46)', {'名称': '市役所'})]
    """
    check_geojson(data)
    declared = _legacy_crs(data)
    with tempfile.TemporaryDirectory(prefix="mapsvc-") as directory:
        path = Path(directory) / "upload.geojson"
        path.write_bytes(data)
        try:
            srid, rows = read_layer(str(path))
        except ImportRejected:
            raise
        except Exception as exc:  # pyogrio raises its own hierarchy and GDAL's; all mean unreadable
            raise ImportRejected(
                Issue(
                    "unreadable_geojson",
                    "GeoJSONとして読めません（書式の誤り）",
                    f"Cannot read this as GeoJSON: {exc}",
                )
            ) from exc
    if declared is not None:
        srid = declared
    if options is not None and options.srid:
        srid = options.srid
    for index, (geometry, properties) in enumerate(rows):
        yield RawRecord(row=index + 1, geometry=geometry, properties=properties, srid=srid)
