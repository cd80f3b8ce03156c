"""Pick the reader for an upload from its content (an explicit format overrides)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator, Mapping

from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.csv import read_csv
from importers.excel import read_excel
from importers.geojson import read_geojson
from importers.gisfiles import read_gpkg, read_kml, read_shapefile
from importers.gtfs import read_gtfs
from importers.options import ImportOptions

Reader = Callable[[bytes, ImportOptions, ImportReport], Iterator[RawRecord]]

READERS: Mapping[str, Reader] = {
    "csv": read_csv,
    "xlsx": read_excel,
    "geojson": read_geojson,
    "shapefile": read_shapefile,
    "kml": read_kml,
    "gpkg": read_gpkg,
    "gtfs": read_gtfs,
}


def _zip_kind(data: bytes) -> str | None:
    try:
        names = [n.lower() for n in zipfile.ZipFile(io.BytesIO(data)).namelist()]
    except (zipfile.BadZipFile, ValueError):
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
    return None


def detect_format(data: bytes, filename: str = "") -> str:
    """The format of ``data``, judged from its bytes; the file name only breaks ties.

    Raises
    ------
    ImportRejected
        If the content is of no supported format.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:4] == b"PK\x03\x04":
        kind = _zip_kind(data)
        if kind is None:
            raise ImportRejected(
                Issue(
                    "unsupported_zip",
                    "ZIPの中に読めるデータ（シェープファイル・GTFS・KML・Excel）がありません",
                    "The zip holds no supported data (Shapefile, GTFS, KML or Excel)",
                )
            )
        return kind
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
    data: bytes, filename: str, options: ImportOptions, report: ImportReport
) -> tuple[str, Iterator[RawRecord]]:
    """The format used and the records of ``data``."""
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
