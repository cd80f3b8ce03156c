"""Pick the reader for an upload from its content (an explicit format overrides)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator, Mapping

from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.csv import read_csv
from importers.excel import read_excel, read_old_excel
from importers.geojson import read_geojson
from importers.gisfiles import read_gpkg, read_kml, read_shapefile, read_zipped_geojson
from importers.gtfs import read_gtfs
from importers.options import ImportOptions

Reader = Callable[[bytes, ImportOptions, ImportReport], Iterator[RawRecord]]

READERS: Mapping[str, Reader] = {
    "csv": read_csv,
    "xlsx": read_excel,
    "xls": read_old_excel,
    "ods": read_old_excel,
    "geojson": read_geojson,
    "geojson_zip": read_zipped_geojson,
    "shapefile": read_shapefile,
    "kml": read_kml,
    "gpkg": read_gpkg,
    "gtfs": read_gtfs,
}


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of Excel 97-2003 (.xls)
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _head(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as member:  # at most 100 bytes inflated: no bomb before SafeZip
        return member.read(100).strip()


def _zip_kind(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [n.lower() for n in archive.namelist()]
        if "mimetype" in names and _head(archive, "mimetype") == ODS_MIMETYPE:
            return "ods"  # OpenDocument stores its type, uncompressed, as the first member
    except (zipfile.BadZipFile, ValueError, KeyError):
        return None
    basenames = {n.rsplit("/", 1)[-1] for n in names}
    if "[content_types].xml" in basenames and any(n.startswith("xl/") for n in names):
        return "xlsx"
    if any(n.endswith(".shp") for n in names):
        return "shapefile"
    if "stops.txt" in basenames:
        return "gtfs"
    if any(n.endswith(".kml") for n in names):
        return "kml"
    if any(n.endswith(".geojson") for n in names):
        return "geojson_zip"
    return None


def detect_format(data: bytes, filename: str = "") -> str:
    r"""The format of ``data``, judged from its bytes; the file name only breaks ties.

    Parameters
    ----------
    data
        The file as uploaded.
    filename
        Its name, used only where the bytes allow several formats (a ``.tsv`` or ``.kmz``).

    Returns
    -------
    str
        One of the keys of ``READERS``: ``csv``, ``xlsx``, ``xls``, ``ods``, ``geojson``,
        ``geojson_zip``, ``shapefile``, ``kml``, ``gpkg``, ``gtfs``.

    Raises
    ------
    ImportRejected
        If the content is of no supported format.

    Examples
    --------
    >>> detect_format("名称,緯度,経度\n市役所,34.46,135.37\n".encode("cp932"), "aed.csv")
    'csv'
    >>> detect_format(b'{"type": "FeatureCollection", "features": []}')
    'geojson'
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:4] == b"PK\x03\x04":
        kind = _zip_kind(data)
        if kind is None:
            raise ImportRejected(
                Issue(
                    "unsupported_zip",
                    "ZIPの中に読めるデータ（シェープファイル・GeoJSON・GTFS・KML・Excel）がありません",
                    "The zip holds no supported data (Shapefile, GeoJSON, GTFS, KML or Excel)",
                )
            )
        return kind
    if data.startswith(OLE2):
        return "xls"
    if data.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"<"):
        if b"<kml" in head.lower():
            return "kml"
        raise ImportRejected(
            Issue(
                "unsupported_xml", "KML以外のXMLは読めません", "XML other than KML is not supported"
            )
        )
    if head.startswith(b"{") or filename.lower().endswith((".geojson", ".json")):
        return "geojson"
    return "csv"


def read_records(
    data: bytes, filename: str, options: ImportOptions, *, report: ImportReport
) -> tuple[str, Iterator[RawRecord]]:
    r"""The format used and the records of ``data``: the first step of every import.

    Parameters
    ----------
    data
        The file's bytes (any supported format; a zip is checked before it is opened).
    filename
        The file's name, for format detection and for the messages.
    options
        The caller's choices (format, encoding, CRS, sheet, layer, columns) and the limits.
    report
        Collects file-level warnings (the encoding used, say) while the records stream.

    Returns
    -------
    tuple of (str, iterator of RawRecord)
        The format read, and one record per row or feature, lazily: pass them to
        ``to_features`` to map and validate them for a layer.

    Raises
    ------
    ImportRejected
        If the whole file is unreadable (unknown format, damaged, too large, a zip bomb…).

    Examples
    --------
    >>> from importers import ImportOptions, ImportReport
    >>> data = "名称,緯度,経度\n岸和田市役所,34.4603,135.3716\n".encode("cp932")
    >>> fmt, records = read_records(data, "aed.csv", ImportOptions(), report=ImportReport())
    >>> record = next(records)
    >>> fmt, record.row, dict(record.properties), record.xy
    ('csv', 2, {'名称': '岸和田市役所'}, (135.3716, 34.4603))
    """
    fmt = options.format or detect_format(data, filename)
    if fmt not in READERS:
        raise ImportRejected(
            Issue(
                "unknown_format",
                f"形式「{fmt}」には対応していません",
                f"Unsupported format {fmt!r} (use one of {', '.join(READERS)})",
            )
        )
    return fmt, READERS[fmt](data, options, report)
