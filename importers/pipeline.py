"""Turn raw records into catalog features: map columns, normalise cells, validate geometry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from importers.base import Feature, ImportReport, Issue, JSONValue, RawRecord
from importers.cells import CellError, convert
from importers.columns import match_columns
from importers.crs import to_wgs84
from importers.derivations import DERIVATIONS
from importers.geometry import GeometryError, check_finite, conform
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


def to_features(
    records: Iterable[RawRecord], layer: LayerDefinition, report: ImportReport
) -> Iterator[Feature]:
    """Validate and convert ``records`` for ``layer``, counting into ``report`` as it goes.

    Rows with errors are reported and skipped; the caller decides whether any error rejects the
    whole file.
    """
    columns: dict[str, Attribute] | None = None
    for record in records:
        report.rows += 1
        if columns is None:
            columns = match_columns(record.properties.keys(), layer)
        properties = map_record(record, layer, columns, report)
        try:
            geometry = to_wgs84(check_finite(record.geometry), record.srid)
            geometry, repaired = conform(
                geometry, layer.geometry_type, repair=layer.invalid_geometry == "repair"
            )
        except GeometryError as exc:
            report.errors.append(Issue(exc.code, exc.message_ja, exc.message_en, row=record.row))
            continue
        if repaired:
            report.warnings.append(
                Issue(
                    "geometry_repaired",
                    "不正な図形を自動修正しました。形を確認してください",
                    "An invalid shape was repaired automatically; please check it",
                    row=record.row,
                )
            )
        if properties is None:
            continue
        source_id = properties.get(layer.id_attribute) if layer.id_attribute else None
        report.accepted += 1
        yield Feature(
            row=record.row,
            source_id=None if source_id is None else str(source_id),
            geometry=geometry,
            properties=properties,
        )
