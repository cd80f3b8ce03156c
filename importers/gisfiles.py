"""Shapefile zips, KML/KMZ and GeoPackage: checked here, then read by GDAL from a private copy."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import defusedxml.ElementTree
import shapely
from defusedxml import DefusedXmlException
from shapely.geometry.base import BaseGeometry

from importers.archive import SafeZip
from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.gdal import list_layers, read_layer
from importers.geojson import read_geojson
from importers.options import ImportOptions
from importers.text import normalise_encoding

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


# LIBKML's standard fields, kept only when a placemark really uses them.
_KML_STANDARD = {
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
}


def _blank(value: object) -> bool:
    return value is None or str(value) in ("", "-1", "nan", "NaT", "None")


def _records(
    srid: int,
    rows: list[tuple[object, dict[str, object]]],
    options: ImportOptions,
    *,
    start: int = 1,
) -> Iterator[RawRecord]:
    for index, (geometry, properties) in enumerate(rows, start=start):
        yield RawRecord(index, geometry, properties, options.srid or srid)  # type: ignore[arg-type]


def _gdal_message(exc: Exception, path: Path) -> str:
    """GDAL's message without the server's temporary paths (editors need not see them)."""
    return str(exc).replace(f"{path.parent}/", "").replace(str(path.parent), "")


def _read(
    path: Path, kind: str, options: ImportOptions, **kwargs: object
) -> tuple[int, list[tuple[object, dict[str, object]]]]:
    try:
        return read_layer(str(path), max_rows=options.limits.max_rows, **kwargs)  # type: ignore[arg-type]
    except ImportRejected:
        raise
    except Exception as exc:  # GDAL's errors: the file is damaged or not what it claims
        raise ImportRejected.because(
            "unreadable_file",
            f"{kind}として読めません",
            f"Cannot read this {kind}: {_gdal_message(exc, path)}",
        ) from exc


def _dbf_encoding(dbf: bytes) -> str:
    # No .cpg: DATA.md's order on the DBF's bytes. Municipal and KSJ DBFs are usually CP932.
    try:
        dbf.decode("utf-8")
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8"


def choose_member(
    archive: SafeZip, suffix: str, options: ImportOptions, kind_ja: str, kind_en: str
) -> str:
    """The member of ``archive`` to read: the only one ending in ``suffix``, or the one chosen.

    A KSJ zip holds one file per scenario or edition (A31a's 計画規模 and 想定最大規模 folders):
    which one is the editor's choice, by its name without the folder and suffix (``layer``).
    """
    found = archive.find(suffix)
    if not found:
        raise ImportRejected.because(
            f"no_{suffix.lstrip('.')}",
            f"ZIPの中に {suffix} ファイルがありません",
            f"The zip holds no {suffix} file",
        )
    if len(found) > 1 and options.layer is None:
        names = ", ".join(PurePosixPath(s).stem for s in found)
        raise ImportRejected.because(
            "choose_layer",
            f"ZIPに複数の{kind_ja}があります。layer で選んでください：{names}",
            f"The zip holds several {kind_en}s; choose one with layer: {names}",
            value=names,
        )
    chosen = (
        found[0]
        if options.layer is None
        else next((s for s in found if PurePosixPath(s).stem == options.layer), None)
    )
    if chosen is None:
        raise ImportRejected.because(
            "unknown_layer",
            f"「{options.layer}」という{kind_ja}はありません",
            f"No {kind_en} called {options.layer!r}",
        )
    return chosen


def read_zipped_geojson(
    data: bytes, options: ImportOptions, report: ImportReport
) -> Iterator[RawRecord]:
    """A zip of GeoJSON files (KSJ's GeoJSON editions: A33, A49, A31a since 2023): read as one.

    The member is checked and inflated within the archive limits, then read as any GeoJSON
    upload (its legacy ``crs`` member, the limits, the same messages).
    """
    archive = SafeZip(data, options.limits)
    chosen = choose_member(archive, ".geojson", options, "GeoJSON", "GeoJSON file")
    yield from read_geojson(archive.read(chosen), options, report)


def read_shapefile(
    data: bytes, options: ImportOptions, report: ImportReport
) -> Iterator[RawRecord]:
    """A zipped Shapefile: ``.prj`` gives the CRS, ``.cpg`` (else the bytes) the DBF encoding.

    Parameters
    ----------
    data
        The file's bytes.
    options
        The caller's choices (encoding, CRS, which shapefile of several) and the limits.
    report
        Collects file-level warnings as the rows stream.

    Examples
    --------
    >>> import io, pathlib, tempfile, zipfile, numpy, pyogrio.raw, shapely
    >>> from importers import ImportOptions, ImportReport
    >>> folder = tempfile.TemporaryDirectory()
    >>> pyogrio.raw.write(f"{folder.name}/aed.shp", geometry=shapely.to_wkb([shapely.Point(135.37, 34.46)]),
    ...                   field_data=[numpy.array(["市役所"], dtype=object)], fields=["name"],
    ...                   crs="EPSG:6668", driver="ESRI Shapefile", geometry_type="Point", encoding="UTF-8")
    >>> archive = io.BytesIO()
    >>> with zipfile.ZipFile(archive, "w") as zipped:
    ...     for part in pathlib.Path(folder.name).iterdir():
    ...         zipped.write(part, part.name)
    >>> [(r.row, r.srid, r.geometry.wkt, dict(r.properties))
    ...  for r in read_shapefile(archive.getvalue(), ImportOptions(), ImportReport())]
    [(1, 6668, 'POINT (135.37 34.46)', {'name': '市役所'})]
    >>> folder.cleanup()
    """
    archive = SafeZip(data, options.limits)
    chosen = choose_member(archive, ".shp", options, "シェープファイル", "shapefile")
    stem = chosen[: -len(".shp")]
    parts = {
        suffix: next((n for n in archive.names() if n.lower() == (stem + suffix).lower()), None)
        for suffix in _SHAPEFILE_PARTS
    }
    missing = [s for s in (".shx", ".dbf") if parts[s] is None]
    if missing:
        raise ImportRejected.because(
            "incomplete_shapefile",
            f"シェープファイルの {'・'.join(missing)} がありません",
            f"The shapefile lacks its {', '.join(missing)}",
        )
    with tempfile.TemporaryDirectory(prefix="mapsvc-") as directory:
        for suffix, member in parts.items():
            if member is not None:
                (Path(directory) / f"upload{suffix}").write_bytes(archive.read(member))
        if options.encoding:
            encoding = normalise_encoding(options.encoding)
        elif parts[".cpg"] is not None:
            encoding = normalise_encoding(
                (Path(directory) / "upload.cpg").read_text("ascii", "replace")
            )
        else:
            encoding = _dbf_encoding((Path(directory) / "upload.dbf").read_bytes())
        srid, rows = _read(
            Path(directory) / "upload.shp", "シェープファイル", options, encoding=encoding
        )
    if parts[".prj"] is None and not options.srid:
        report.warnings.append(
            Issue(
                "no_prj",
                ".prj がないため座標系を推定しました",
                "No .prj: the coordinate system was assumed",
            )
        )
        if options.plane_srid and rows and _looks_planar(rows):
            srid = options.plane_srid
    yield from _records(srid, rows, options)


def _looks_planar(rows: list[tuple[object, dict[str, object]]]) -> bool:
    geometry = next((g for g, _ in rows if isinstance(g, BaseGeometry)), None)
    return geometry is not None and abs(shapely.get_coordinates(geometry)[0][0]) > 180


def _check_xml(document: bytes) -> None:
    """Refuse DOCTYPEs and entities (XXE, billion laughs) before any parser expands them."""
    if b"<!DOCTYPE" in document[:4096].upper() or b"<!ENTITY" in document.upper():
        raise ImportRejected.because(
            "xml_doctype",
            "KMLに DOCTYPE 宣言があるため受け付けられません",
            "KML with a DOCTYPE declaration is not accepted",
        )
    try:
        defusedxml.ElementTree.fromstring(document)
    except (DefusedXmlException, defusedxml.ElementTree.ParseError) as exc:
        raise ImportRejected.because(
            "bad_xml", "KMLのXMLが壊れています", f"The KML's XML is broken: {exc}"
        ) from exc


def read_kml(data: bytes, options: ImportOptions, report: ImportReport) -> Iterator[RawRecord]:  # noqa: ARG001
    """KML or KMZ: every folder's placemarks, with name, description and ExtendedData.

    A document with a DOCTYPE (entity expansion, external entities) is refused before parsing.

    Parameters
    ----------
    data
        The file's bytes.
    options
        The caller's choices (unused) and the limits.
    report
        Collects file-level warnings as the rows stream.

    Examples
    --------
    >>> from importers import ImportOptions, ImportReport
    >>> kml = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>AED</name>'
    ...        b'<Point><coordinates>135.37,34.46</coordinates></Point></Placemark></Document></kml>')
    >>> [(r.row, r.geometry.wkt, r.properties["Name"]) for r in read_kml(kml, ImportOptions(), ImportReport())]
    [(1, 'POINT (135.37 34.46)', 'AED')]
    """
    if data[:2] == b"PK":
        archive = SafeZip(data, options.limits)
        documents = archive.find(".kml")
        if not documents:
            raise ImportRejected.because(
                "no_kml", "KMZの中に .kml がありません", "The KMZ holds no .kml file"
            )
        data = archive.read("doc.kml" if "doc.kml" in documents else documents[0])
    _check_xml(data)
    with tempfile.TemporaryDirectory(prefix="mapsvc-") as directory:
        path = Path(directory) / "upload.kml"
        path.write_bytes(data)
        layers = [name for name, _ in list_layers(str(path))]
        start = 1
        for layer in layers:
            srid, rows = _read(path, "KML", options, layer=layer)
            rows = [
                (g, {k: v for k, v in p.items() if k not in _KML_STANDARD or not _blank(v)})
                for g, p in rows
            ]
            yield from _records(srid, rows, options, start=start)
            start += len(rows)


def read_gpkg(data: bytes, options: ImportOptions, report: ImportReport) -> Iterator[RawRecord]:  # noqa: ARG001
    """A GeoPackage layer: the one named, or the only one with geometry.

    Parameters
    ----------
    data
        The file's bytes.
    options
        The caller's choices (the layer to read) and the limits.
    report
        Collects file-level warnings as the rows stream.

    Raises
    ------
    ImportRejected
        If several layers have geometry and none was chosen (the message lists them).

    Examples
    --------
    >>> import pathlib, tempfile, numpy, pyogrio.raw, shapely
    >>> from importers import ImportOptions, ImportReport
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = f"{folder.name}/aed.gpkg"
    >>> pyogrio.raw.write(path, geometry=shapely.to_wkb([shapely.Point(135.37, 34.46)]),
    ...                   field_data=[numpy.array(["市役所"], dtype=object)], fields=["name"],
    ...                   crs="EPSG:4326", driver="GPKG", geometry_type="Point", layer="aed")
    >>> [(r.row, r.srid, r.geometry.wkt, dict(r.properties))
    ...  for r in read_gpkg(pathlib.Path(path).read_bytes(), ImportOptions(), ImportReport())]
    [(1, 4326, 'POINT (135.37 34.46)', {'name': '市役所'})]
    >>> folder.cleanup()
    """
    if not data.startswith(b"SQLite format 3\x00"):
        raise ImportRejected.because(
            "not_gpkg", "GeoPackageファイルではありません", "This is not a GeoPackage file"
        )
    with tempfile.TemporaryDirectory(prefix="mapsvc-") as directory:
        path = Path(directory) / "upload.gpkg"
        path.write_bytes(data)
        try:
            layers = [name for name, kind in list_layers(str(path)) if kind is not None]
        except Exception as exc:
            raise ImportRejected.because(
                "unreadable_file",
                "GeoPackageとして読めません",
                f"Cannot read this GeoPackage: {_gdal_message(exc, path)}",
            ) from exc
        if options.layer is not None:
            if options.layer not in layers:
                raise ImportRejected.because(
                    "unknown_layer",
                    f"レイヤー「{options.layer}」がありません（{'、'.join(layers)}）",
                    f"No layer {options.layer!r} (layers: {', '.join(layers)})",
                )
            layer = options.layer
        elif len(layers) == 1:
            layer = layers[0]
        else:
            raise ImportRejected.because(
                "choose_layer",
                f"複数のレイヤーがあります。layer で選んでください：{'、'.join(layers)}",
                f"The GeoPackage has several layers; choose one with layer: {', '.join(layers)}",
                value=", ".join(layers),
            )
        _refuse_views(path, layer)
        srid, rows = _read(path, "GeoPackage", options, layer=layer)
    yield from _records(srid, rows, options)


def _refuse_views(path: Path, layer: str) -> None:
    """Only a stored table may be a layer: a view or virtual table is a query the upload runs.

    A 98 KB GeoPackage whose layer was a recursive view generated 500,000 rows (57 s, +365 MB).
    The schema is read with SQLite itself, read-only; nothing in the file is executed.
    """
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        found = db.execute(
            "SELECT type, sql FROM sqlite_master WHERE name = ? COLLATE NOCASE", (layer,)
        ).fetchone()
    if found is None or found[0] != "table" or "VIRTUAL" in str(found[1]).upper()[:30]:
        raise ImportRejected.because(
            "gpkg_view_layer",
            f"レイヤー「{layer}」は表ではありません（ビューや仮想テーブルは読めません）",
            f"The layer {layer!r} is not a table (views and virtual tables are not read)",
            value=layer,
        )
