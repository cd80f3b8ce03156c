"""Turn raw records into catalog features: map columns, normalise cells, validate geometry."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from importers.base import Feature, ImportRejected, ImportReport, Issue, JSONValue, RawRecord
from importers.cells import CellError, converter
from importers.columns import match_columns
from importers.crs import SAME_AS_WGS84, WGS84, check_area, datum_note, to_wgs84, transformer
from importers.derivations import DERIVATIONS
from importers.geometry import GeometryError, check_finite, conform
from importers.options import IGNORE_COLUMN, ImportOptions
from layers import Attribute, GeometryType, LayerDefinition


def _keep_unknown(value: object) -> JSONValue:
    # Unknown columns are kept, as JSON-safe scalars; numpy scalars become Python ones.
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "item"):
        item: JSONValue = value.item()
        return item
    return str(value)


def map_record(
    record: RawRecord,
    layer: LayerDefinition,
    columns: dict[str, Attribute],
    *,
    report: ImportReport,
) -> dict[str, JSONValue] | None:
    """The record's properties under the layer's attribute names, or None if a cell is wrong.

    Columns that match no attribute are kept under their own names.

    Parameters
    ----------
    record
        One row or feature as a reader produced it.
    layer
        The catalog entry the data is for.
    columns
        Header -> attribute, as ``importers.columns.match_columns`` found them.
    report
        Receives an error (row, column, value, ja/en message) for each cell that does not fit.

    Returns
    -------
    dict or None
        The converted properties, or None when any cell was wrong (the report says which).

    Examples
    --------
    >>> from importers import ImportReport, RawRecord
    >>> from importers.columns import match_columns
    >>> from layers import load_catalog
    >>> aed = load_catalog()["aed"]
    >>> record = RawRecord(2, None, {"名称": "梅田AED", "備考": "1階"})
    >>> map_record(record, aed, match_columns(["名称", "備考"], aed), report=ImportReport())
    {'name': '梅田AED', 'note': '1階'}
    """
    return _map(record, layer, converters(columns), report=report)


Converters = dict[str, tuple[str, Callable[[object], JSONValue] | None]]


def converters(columns: dict[str, Attribute], ignored: Iterable[str] = ()) -> Converters:
    """Header -> (attribute name, its converter): looked up once per file, not once per cell.

    An ``ignored`` header gets no converter: its cells are left out.
    """
    found: Converters = {h: (a.name, converter(a)) for h, a in columns.items()}
    return found | {header: (header, None) for header in ignored}


def _map(
    record: RawRecord, layer: LayerDefinition, columns: Converters, *, report: ImportReport
) -> dict[str, JSONValue] | None:
    properties: dict[str, JSONValue] = {}
    ok = True
    for header, value in record.properties.items():
        mapped = columns.get(header)
        if mapped is None:
            if header not in properties:
                properties[header] = _keep_unknown(value)
            continue
        name, convert = mapped
        if convert is None:  # a column the uploader chose to leave out
            continue
        try:
            properties[name] = convert(value)
        except CellError as exc:
            ok = False
            report.errors.append(
                Issue(
                    "invalid_value",
                    exc.message_ja,
                    exc.message_en,
                    row=record.row,
                    column=header,
                    value=str(value)[:200],
                )
            )
    for name in layer.derive:
        DERIVATIONS[name](properties)
    return properties if ok else None


def attribute_columns(
    headers: Iterable[str], layer: LayerDefinition, options: ImportOptions
) -> dict[str, Attribute]:
    """Header -> attribute: the aliases' matches, overruled by the caller's column choices."""
    chosen = options.columns
    matched = match_columns([h for h in headers if h not in chosen], layer)
    for header, name in chosen.items():
        try:
            matched[header] = layer.attribute(name)
        except KeyError:
            continue  # a geometry role (used by the tabular reader), kept or ignored
    return matched


_OUTSIDE = GeometryError(
    "outside_municipality",
    "この位置は登録先の市区町村の外です。緯度・経度や登録先を確認してください",
    "This position is outside the municipality the data is filed under: "
    "check the coordinates and the municipality",
)
_SPILLS_OVER = GeometryError(
    "outside_municipality",
    "この図形は登録先の市区町村の区域からはみ出しています。範囲や登録先を確認してください",
    "This shape reaches outside the municipality the data is filed under: check its extent "
    "and the municipality (data covering several municipalities belongs to the prefecture)",
)
_ZERO = GeometryError(
    "zero_coordinates",
    "座標が (0, 0) です。正しい位置を入力してください",
    "The coordinates are (0, 0): enter the real position",
)
_NOT_FINITE = GeometryError(
    "non_finite_coordinates",
    "座標に数値でない値（NaN・Infinity）があります",
    "Coordinates contain NaN or Infinity",
)


def _points(records: list[RawRecord], options: ImportOptions) -> list[BaseGeometry | GeometryError]:
    """Points of table rows, built and checked as arrays (per-row shapely calls cost 10× more)."""
    pairs = [r.xy for r in records if r.xy is not None]
    xs = np.fromiter((x for x, _ in pairs), dtype=np.float64, count=len(pairs))
    ys = np.fromiter((y for _, y in pairs), dtype=np.float64, count=len(pairs))
    srids = np.array([r.srid for r in records])
    for srid in np.unique(srids):
        if int(srid) not in SAME_AS_WGS84:
            chosen = srids == srid
            xs[chosen], ys[chosen] = transformer(int(srid)).transform(xs[chosen], ys[chosen])
    finite = np.isfinite(xs) & np.isfinite(ys)
    zero = (xs == 0) & (ys == 0)
    inside = (
        shapely.intersects_xy(options.boundary, xs, ys)
        if options.boundary is not None
        else np.ones(len(records), dtype=bool)
    )
    points = np.asarray(shapely.points(xs, ys), dtype=object)
    results: list[BaseGeometry | GeometryError] = []
    for point, ok, at_zero, within in zip(points, finite, zero, inside, strict=True):
        results.append(
            _NOT_FINITE if not ok else _ZERO if at_zero else point if within else _OUTSIDE
        )
    return results


def _geometry(
    record: RawRecord, layer: LayerDefinition, options: ImportOptions, *, report: ImportReport
) -> BaseGeometry:
    """Validate one reader-built geometry: finite, bounded, inside, of the layer's kind."""
    geometry = to_wgs84(check_finite(record.geometry), record.srid)
    vertices = shapely.get_num_coordinates(geometry)
    if vertices > options.limits.max_vertices:
        raise GeometryError(
            "too_many_vertices",
            f"図形の頂点が多すぎます（{vertices:,}、上限 {options.limits.max_vertices:,}）",
            f"The shape has too many vertices ({vertices:,}; at most "
            f"{options.limits.max_vertices:,})",
        )
    if not shapely.get_coordinates(geometry).any():
        raise _ZERO
    # Contained, not only touching: a zone that merely overlapped the editor's municipality
    # could otherwise be drawn over its neighbours.
    if options.boundary is not None and not options.boundary.covers(geometry):
        raise _OUTSIDE if not options.boundary.intersects(geometry) else _SPILLS_OVER
    geometry, repaired = conform(
        geometry, layer.geometry_type, repair=layer.invalid_geometry == "repair"
    )
    if repaired:
        report.warnings.append(
            Issue(
                "geometry_repaired",
                "不正な図形を自動修正しました。形を確認してください",
                "An invalid shape was repaired automatically; please check it",
                row=record.row,
            )
        )
    return geometry


def to_features(
    records: Iterable[RawRecord],
    layer: LayerDefinition,
    report: ImportReport,
    *,
    options: ImportOptions | None = None,
) -> Iterator[Feature]:
    r"""Validate and convert ``records`` for ``layer``, counting into ``report`` as it goes.

    Rows with errors are reported and skipped; the caller decides whether any error rejects the
    whole file (``ImportReport.acceptable``). Records are handled in batches, so table rows'
    points are built as arrays.

    Parameters
    ----------
    records
        What ``read_records`` (or one reader) yields.
    layer
        The catalog entry: its attributes, aliases, geometry type and invalid-geometry policy.
    report
        Counts rows and accepted features and collects each row's errors and warnings.
    options
        The boundary (points outside it are errors), the plane-rectangular zone and the limits;
        None reads without a boundary and with the default limits.

    Yields
    ------
    Feature
        Each valid feature in EPSG:4326, with its stable key.

    Raises
    ------
    ImportRejected
        If the file has more rows than the limit allows.

    Examples
    --------
    >>> from importers import ImportOptions, ImportReport, read_records
    >>> from layers import load_catalog
    >>> data = "名称,緯度,経度\n岸和田市役所,34.4603,135.3716\n消防署,0,0\n".encode()
    >>> report = ImportReport()
    >>> _, records = read_records(data, "aed.csv", ImportOptions(), report=report)
    >>> [(f.row, f.geometry.wkt, f.properties["name"]) for f in to_features(records, load_catalog()["aed"], report)]
    [(2, 'POINT (135.3716 34.4603)', '岸和田市役所')]
    >>> report.rows, report.accepted, report.errors[0].code, report.errors[0].row
    (2, 1, 'zero_coordinates', 3)
    """
    options = options or ImportOptions()
    state = _State()
    iterator = (
        iter(records)
        if not options.where
        else _kept(records, options.where, report, limit=options.limits.max_rows)
    )
    limit = options.limits.max_seconds
    deadline = None if limit is None else time.monotonic() + limit
    while batch := list(itertools.islice(iterator, BATCH)):
        if deadline is not None and time.monotonic() > deadline:
            raise ImportRejected.because(
                "too_slow",
                f"ファイルの処理に時間がかかりすぎました（上限 {limit:g} 秒）。ファイルを分けてください",
                f"Reading this file took longer than {limit:g} s: split it into smaller files",
            )
        yield from _batch(batch, layer, report, options=options, state=state)


BATCH = 2048


def _kept(
    records: Iterable[RawRecord],
    where: Mapping[str, tuple[str, ...]],
    report: ImportReport,
    *,
    limit: int,
) -> Iterator[RawRecord]:
    """The records the row filter keeps; the others are counted, never reported as errors."""
    wanted = {column: set(values) for column, values in where.items()}
    seen_columns = False
    for record in records:
        if not seen_columns:
            missing = [c for c in wanted if c not in record.properties]
            if missing:
                raise ImportRejected.because(
                    "unknown_filter_column",
                    f"絞り込みの列「{'、'.join(missing)}」がファイルにありません",
                    f"The row filter names columns the file does not have: {', '.join(missing)}",
                    value=", ".join(missing),
                )
            seen_columns = True
        if all(str(record.properties.get(c) or "").strip() in v for c, v in wanted.items()):
            yield record
        else:
            report.left_out += 1
            if report.left_out > limit:  # the rows left out are read too: the same bound
                raise ImportRejected.because(
                    "too_many_rows",
                    f"行数が多すぎます（上限 {limit:,} 行）",
                    f"Too many rows (at most {limit:,})",
                )


@dataclass
class _State:
    columns: Converters | None = None
    seen_ids: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # ID -> (row, content)
    repeats: dict[str, int] = field(default_factory=dict)
    crs_checked: set[int] = field(default_factory=set)  # CRSs already checked in this file


def _batch(
    batch: list[RawRecord],
    layer: LayerDefinition,
    report: ImportReport,
    *,
    options: ImportOptions,
    state: _State,
) -> Iterator[Feature]:
    if report.rows + len(batch) > options.limits.max_rows:
        raise ImportRejected(
            Issue(
                "too_many_rows",
                f"行数が多すぎます（上限 {options.limits.max_rows:,} 行）",
                f"Too many rows (at most {options.limits.max_rows:,})",
            )
        )
    _check_crs(batch, report, options=options, state=state)
    table_rows = [r for r in batch if r.xy is not None and r.error is None]
    points = (
        dict(zip(map(id, table_rows), _points(table_rows, options), strict=True))
        if table_rows
        else {}
    )
    # Table rows' points encoded in one call, for the duplicate check (one call a row cost 0.5 s
    # per 100,000 rows).
    built_points = [p for p in points.values() if not isinstance(p, GeometryError)]
    encoded = (
        dict(zip(map(id, built_points), shapely.to_wkb(built_points), strict=True))
        if layer.id_attribute  # only features with a stable ID are checked for repeats
        else {}
    )
    # Points outside the exact boundary but within the tolerance, checked in one call.
    abroad = (
        {
            id(p)
            for p, inside in zip(
                built_points, shapely.covers(options.exact_boundary, built_points), strict=True
            )
            if not inside
        }
        if options.exact_boundary is not None and built_points
        else set()
    )
    id_attribute, point_layer = layer.id_attribute, layer.geometry_type is GeometryType.POINT
    for record in batch:
        report.rows += 1
        if record.error is not None:
            report.errors.append(record.error)
            continue
        if state.columns is None:
            ignored = [h for h, name in options.columns.items() if name == IGNORE_COLUMN]
            state.columns = converters(
                attribute_columns(record.properties.keys(), layer, options), ignored
            )
        properties = _map(record, layer, state.columns, report=report)
        try:
            geometry = points.get(id(record))
            if geometry is None:
                geometry = _geometry(record, layer, options, report=report)
            elif isinstance(geometry, GeometryError):
                raise geometry
            elif not point_layer:
                geometry, _ = conform(geometry, layer.geometry_type, repair=False)
        except GeometryError as exc:
            report.errors.append(Issue(exc.code, exc.message_ja, exc.message_en, row=record.row))
            continue
        if properties is None:
            continue
        if (id(record) in points and id(geometry) in abroad) or (
            id(record) not in points and _abroad(geometry, options)
        ):
            report.warnings.append(_lies_in(record.row, geometry, options))
        source_id = properties.get(id_attribute) if id_attribute else None
        key: str | None
        if source_id is None:
            key = f"r{record.row}"
        else:
            content = _content(properties, encoded.get(id(geometry)) or shapely.to_wkb(geometry))
            key = _key(
                str(source_id), record.row, layer, content=content, report=report, state=state
            )
            if key is None:
                continue
        report.accepted += 1
        yield Feature(
            record.row, None if source_id is None else str(source_id), geometry, properties, key
        )


def _abroad(geometry: BaseGeometry, options: ImportOptions) -> bool:
    return options.exact_boundary is not None and not options.exact_boundary.covers(geometry)


def _lies_in(row: int, geometry: BaseGeometry, options: ImportOptions) -> Issue:
    """A warning for a feature kept outside its municipality: where it lies, so staff can judge.

    A municipality runs facilities in the next town (a care home, a cemetery): real, kept. A
    position far off is an error instead (``boundary``, which has the tolerance).
    """
    where = next((n for n in options.neighbours if n.boundary.intersects(geometry)), None)
    ja = f"{where.name_ja}内" if where else "どの市区町村にも含まれない場所"
    en = f"in {where.name_en}" if where else "in no municipality"
    return Issue(
        "outside_municipality_nearby",
        f"この位置は登録先の市区町村の区域外（{ja}）です。区域外にある施設なら問題ありません。"
        "そうでなければ緯度・経度を確認してください",
        f"This position lies outside the municipality the data is filed under ({en}): fine for "
        "a facility it runs there; otherwise check the coordinates",
        row=row,
    )


def _check_crs(
    batch: list[RawRecord], report: ImportReport, *, options: ImportOptions, state: _State
) -> None:
    """Once per file and CRS: check it suits the place, and explain an old datum's shift.

    A CRS whose area of use misses the municipality is rejected (the data would land elsewhere);
    coordinates on the Tokyo Datum get a warning naming the transformation and its accuracy.
    """
    for record in batch:
        if record.srid in state.crs_checked or record.error:
            continue
        state.crs_checked.add(record.srid)
        if options.boundary is not None:
            expected = [c for c in (options.plane_srid, 6668, WGS84) if c]
            check_area(record.srid, options.boundary.bounds, expected)
        if record.srid in SAME_AS_WGS84:
            continue
        sample = record.xy
        if sample is None and record.geometry is not None and not record.geometry.is_empty:
            first = shapely.get_coordinates(record.geometry)[0]
            sample = (float(first[0]), float(first[1]))
        if sample is None:
            continue
        note = datum_note(record.srid, *sample)
        if note is not None:
            report.warnings.append(note)


def _content(properties: dict[str, JSONValue], wkb: bytes) -> bytes:
    """A short digest of a feature's content, to tell an exact repeat from a clash of IDs."""
    return hashlib.blake2b(
        orjson.dumps(properties, option=orjson.OPT_SORT_KEYS) + wkb, digest_size=16
    ).digest()


def _key(
    key: str,
    row: int,
    layer: LayerDefinition,
    *,
    content: bytes,
    report: ImportReport,
    state: _State,
) -> str | None:
    """The feature's key (its source ID), or None when the row is not to be stored.

    A row repeating an earlier one exactly is dropped (a warning names both rows): residents
    would see one site twice. The same ID with other content is a row error naming both rows,
    unless the layer's IDs are not unique, where repeats are kept apart as "<id>~n".
    """
    first = state.seen_ids.setdefault(key, (row, content))
    if first[0] == row:
        return key
    first_row, first_content = first
    if content == first_content:
        report.warnings.append(
            Issue(
                "duplicate_row",
                f"{row} 行目は {first_row} 行目と同じ内容です（ID「{key}」）。重複として除きました",
                f"Row {row} repeats row {first_row} exactly (ID {key!r}): dropped as a duplicate",
                row=row,
                column=layer.id_attribute,
                value=key,
            )
        )
        return None
    if layer.unique_ids:
        report.errors.append(
            Issue(
                "duplicate_id",
                f"ID「{key}」は {first_row} 行目でも使われていますが、内容が違います。"
                "どちらかの ID を直してください",
                f"ID {key!r} is also used by row {first_row} with different content: "
                "fix one of the two IDs",
                row=row,
                column=layer.id_attribute,
                value=key,
            )
        )
        return None
    state.repeats[key] = state.repeats.get(key, 1) + 1
    report.warnings.append(
        Issue(
            "duplicate_id",
            f"ID「{key}」が {first_row} 行目と重複しています（このレイヤーでは同じ ID が使われることがあります）",
            f"ID {key!r} repeats row {first_row} (this layer's source reuses IDs)",
            row=row,
            column=layer.id_attribute,
            value=key,
        )
    )
    return f"{key}~{state.repeats[key]}"
