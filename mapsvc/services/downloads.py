"""Whole-layer downloads (GeoJSON, CSV for Excel, GeoPackage), streamed in constant memory."""

from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
import pyogrio.raw
import shapely
from sqlalchemy.orm import Session, sessionmaker

from layers import GeometryType, LayerDefinition
from mapsvc.db import downloads as sql
from mapsvc.errors import NotFound
from mapsvc.services.municipalities import resolve_scope

BATCH = 2000
FORMULA_START = frozenset("=+-@\t\r")


def looks_like_formula(text: str) -> bool:
    """Whether Excel may take ``text`` for a formula, in any form the cell can reach Excel in.

    The first character is judged as NFKC folds it (Japanese Excel takes "＝SUM(…)", typed with
    the IME, as a formula) and as it comes back from a CP932 download: U+2212 (−) is no sign to
    NFKC, but CP932 turns it into 0x817C, which Excel reads as "－".

    Examples
    --------
    >>> [looks_like_formula(t) for t in ("=1", "＝1", "\u22121+1", "－1", "＠A1", "1-2", "")]
    [True, True, True, True, True, False, False]
    """
    first = text[:1]
    as_cp932 = first.encode("cp932", "replace").decode("cp932")
    return any(unicodedata.normalize("NFKC", c) in FORMULA_START for c in (first, as_cp932))


def safe_cell(value: Any) -> Any:
    """A cell Excel will not run: text starting like a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else value


def excel_csv(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A small table for Excel: UTF-8 with a BOM, CRLF, every cell made safe (``safe_cell``)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return buffer.getvalue()


def metadata(layer: LayerDefinition, updated: str | None) -> dict[str, Any]:
    """Licence, attribution and update date, repeated in every download."""
    return {
        "license": {"name": layer.source.license.name, "url": str(layer.source.license.url)},
        "attribution": layer.source.attribution.model_dump(),
        "notice": layer.source.notice.model_dump() if layer.source.notice else None,
        "updated": updated,
    }


def geojson_chunks(
    sessions: sessionmaker[Session], layer: LayerDefinition, owner: str | None
) -> Iterator[bytes]:
    """A FeatureCollection written as it is read, a batch at a time."""
    with sessions() as session:
        head = {"type": "FeatureCollection", "name": layer.id} | metadata(
            layer, sql.updated(session, layer.id)
        )
        yield orjson.dumps(head)[:-1] + b',"features":['
        pieces: list[bytes] = []
        separator = b""
        for feature_id, geometry, properties in sql.stream(session, layer.id, owner, batch=BATCH):
            pieces.append(
                orjson.dumps(
                    {
                        "type": "Feature",
                        "id": feature_id,
                        "geometry": orjson.Fragment(geometry),
                        "properties": orjson.Fragment(properties),
                    }
                )
            )
            if len(pieces) == 500:  # a chunk per 500 features: few, large writes
                yield separator + b",".join(pieces)
                separator, pieces = b",", []
        if pieces:
            yield separator + b",".join(pieces)
        yield b"]}"


def csv_chunks(
    sessions: sessionmaker[Session], layer: LayerDefinition, owner: str | None, *, encoding: str
) -> Iterator[bytes]:
    """CSV that opens correctly in Japanese Excel: UTF-8 with BOM (or CP932), CRLF, safe cells."""
    names = [a.name for a in layer.attributes]
    point = layer.geometry_type is GeometryType.POINT
    header = ["id", *(["longitude", "latitude"] if point else ["wkt"]), *names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" if encoding == "utf-8" else "").encode() + buffer.getvalue().encode(
        encoding, "replace"
    )
    buffer.seek(0)
    buffer.truncate()
    with sessions() as session:
        for count, (feature_id, geometry, properties) in enumerate(
            sql.stream(session, layer.id, owner, batch=BATCH, wkt=True), start=1
        ):
            props = orjson.loads(properties)
            shape = shapely.from_wkt(geometry)
            place = (
                [f"{shape.x:.6f}", f"{shape.y:.6f}"]
                if point and isinstance(shape, shapely.Point)
                else [geometry]
            )
            writer.writerow([feature_id, *place, *(safe_cell(props.get(n)) for n in names)])
            if count % 500 == 0:
                yield buffer.getvalue().encode(encoding, "replace")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode(encoding, "replace")


def write_geopackage(
    sessions: sessionmaker[Session], layer: LayerDefinition, owner: str | None
) -> Path:
    """A GeoPackage on disk, appended a batch at a time (the caller streams and deletes it)."""
    directory = Path(tempfile.mkdtemp(prefix="mapsvc-download-"))
    path = directory / f"{layer.id}.gpkg"
    fields = [a.name for a in layer.attributes]
    geometry_type = {"point": "Point", "line": "MultiLineString", "polygon": "MultiPolygon"}[
        layer.geometry_type.value
    ]
    with sessions() as session:
        batch: list[tuple[str, str, str]] = []
        appended = False

        def flush() -> None:
            nonlocal appended
            props = [orjson.loads(p) for _, _, p in batch]
            columns = [
                np.array(["" if (v := p.get(n)) is None else str(v) for p in props], dtype=object)
                for n in fields
            ]
            geometries = np.array(
                shapely.to_wkb(shapely.from_wkt([g for _, g, _ in batch])), dtype=object
            )
            pyogrio.raw.write(
                str(path),
                geometries,
                [np.array([i for i, _, _ in batch], dtype=object), *columns],
                ["id", *fields],
                layer=layer.id,
                driver="GPKG",
                geometry_type=geometry_type,
                crs="EPSG:4326",
                append=appended,
                promote_to_multi=geometry_type != "Point",
            )
            appended = True
            batch.clear()

        for row in sql.stream(session, layer.id, owner, batch=BATCH, wkt=True):
            batch.append(row)
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    return path


MEDIA = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset={charset}",
    "gpkg": "application/geopackage+sqlite3",
}


@dataclass(frozen=True, kw_only=True)
class DownloadRequest:
    """A whole-layer download: the format, one municipality's data or all, the CSV encoding."""

    layer: LayerDefinition
    fmt: Literal["geojson", "csv", "gpkg"]
    municipality: str | None = None
    encoding: Literal["utf-8", "cp932"] = "utf-8"


@dataclass(frozen=True)
class Download:
    """What to send: streamed chunks, or a file whose folder the sender deletes after sending."""

    media_type: str
    headers: dict[str, str]
    body: Iterator[bytes] | Path


def prepare_download(
    session: Session, sessions: sessionmaker[Session], request: DownloadRequest
) -> Download:
    """The download's headers and body (read through ``sessions``, one per stream), or NotFound.

    The licence, attribution and update date travel in the headers as well as in the body.
    """
    layer = request.layer
    owner = resolve_scope(session, request.municipality).owner
    updated = sql.updated(session, layer.id)
    if updated is None:
        raise NotFound(
            "このレイヤーにはまだ公開データがありません", f"No published data in {layer.id}"
        )
    name = f"{layer.id}{'_' + owner if owner else ''}.{request.fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Link": f'<{layer.source.license.url}>; rel="license"',
        "Last-Modified-Data": updated,
        "X-Attribution": layer.source.attribution.en,
    }
    if request.fmt == "gpkg":
        return Download(MEDIA["gpkg"], headers, write_geopackage(sessions, layer, owner))
    if request.fmt == "csv":
        charset = "shift_jis" if request.encoding == "cp932" else "utf-8"
        chunks = csv_chunks(sessions, layer, owner, encoding=request.encoding)
        return Download(MEDIA["csv"].format(charset=charset), headers, chunks)
    return Download(MEDIA["geojson"], headers, geojson_chunks(sessions, layer, owner))
