"""Turn raw records into catalog features: map columns, normalise cells, validate geometry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import shapely

from importers.base import Feature, ImportRejected, ImportReport, Issue, JSONValue, RawRecord
from importers.cells import CellError, convert
from importers.columns import match_columns
from importers.crs import to_wgs84
from importers.derivations import DERIVATIONS
from importers.geometry import GeometryError, check_finite, conform
from importers.options import ImportOptions
from layers import Attribute, LayerDefinition


def _keep_unknown(value: object) -> JSONValue:
    # Unknown columns are kept, as JSON-safe scalars; numpy scalars become Python ones.
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "item"):
        item: JSONValue = value.item()
        return item
    return str(value)


def map_record(
    record: RawRecord, layer: LayerDefinition, columns: dict[str, Attribute], report: ImportReport
) -> dict[str, JSONValue] | None:
    """The record's properties under the layer's attribute names, or None if a cell is wrong.

    Columns that match no attribute are kept under their own names.
    """
    properties: dict[str, JSONValue] = {}
    ok = True
    for header, value in record.properties.items():
        attribute = columns.get(header)
        if attribute is None:
            if header not in properties:
                properties[header] = _keep_unknown(value)
            continue
        try:
            properties[attribute.name] = convert(attribute, value)
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


def _columns(
    headers: Iterable[str], layer: LayerDefinition, options: ImportOptions
) -> dict[str, Attribute]:
    matched = match_columns(headers, layer)
    for header, name in options.columns.items():
        try:
            matched[header] = layer.attribute(name)
        except KeyError:
            continue  # a geometry role (latitude, survey_x…), used by the tabular reader
    return matched


def _geometry(
    record: RawRecord, layer: LayerDefinition, options: ImportOptions, report: ImportReport
) -> shapely.Geometry:
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
        raise GeometryError(
            "zero_coordinates",
            "座標が (0, 0) です。正しい位置を入力してください",
            "The coordinates are (0, 0): enter the real position",
        )
    if options.boundary is not None and not options.boundary.intersects(geometry):
        raise GeometryError(
            "outside_municipality",
            "この位置は登録先の市区町村の外です。緯度・経度や登録先を確認してください",
            "This position is outside the municipality the data is filed under: "
            "check the coordinates and the municipality",
        )
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
    options: ImportOptions | None = None,
) -> Iterator[Feature]:
    """Validate and convert ``records`` for ``layer``, counting into ``report`` as it goes.

    Rows with errors are reported and skipped; the caller decides whether any error rejects the
    whole file.

    Raises
    ------
    ImportRejected
        If the file has more rows than the limit allows.
    """
    options = options or ImportOptions()
    columns: dict[str, Attribute] | None = None
    seen_ids: dict[str, int] = {}
    for record in records:
        report.rows += 1
        if report.rows > options.limits.max_rows:
            raise ImportRejected(
                Issue(
                    "too_many_rows",
                    f"行数が多すぎます（上限 {options.limits.max_rows:,} 行）",
                    f"Too many rows (at most {options.limits.max_rows:,})",
                )
            )
        if record.error is not None:
            report.errors.append(record.error)
            continue
        if columns is None:
            columns = _columns(record.properties.keys(), layer, options)
        properties = map_record(record, layer, columns, report)
        try:
            geometry = _geometry(record, layer, options, report)
        except GeometryError as exc:
            report.errors.append(Issue(exc.code, exc.message_ja, exc.message_en, row=record.row))
            continue
        if properties is None:
            continue
        source_id = properties.get(layer.id_attribute) if layer.id_attribute else None
        if source_id is not None:
            key = str(source_id)
            if key in seen_ids:
                report.warnings.append(
                    Issue(
                        "duplicate_id",
                        f"ID「{key}」が {seen_ids[key]} 行目と重複しています",
                        f"ID {key!r} repeats row {seen_ids[key]}",
                        row=record.row,
                        column=layer.id_attribute,
                        value=key,
                    )
                )
            else:
                seen_ids[key] = record.row
        report.accepted += 1
        yield Feature(
            record.row, None if source_id is None else str(source_id), geometry, properties
        )
