"""What the staff portal's fix page shows of one row of a version: its cells, and the fixes it offers.

The row is read again from the version's stored file, with the version's options and earlier
fixes, so the page shows what the clerk's file says (the database holds only the rows that
were accepted). Applying fixes is ``uploads.revise``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from importers import ImportOptions, ImportRejected, ImportReport, RawRecord, read_records
from importers.crs import in_japan
from importers.edits import apply_edits
from importers.pipeline import attribute_columns
from layers import LayerDefinition
from mapsvc.db import queries
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.services import datasets, uploads
from mapsvc.services.seed import SeedManifest
from mapsvc.settings import Settings

ADDRESS = "address"  # the catalog's attribute for a postal address, in every layer that has one


@dataclass(frozen=True, kw_only=True)
class RowToFix:
    """One row as the fix page shows it."""

    row: int
    # Column -> value as the file has it, earlier fixes applied (the coordinate columns aside:
    # a position is fixed as a position).
    cells: dict[str, str]
    name: str | None
    address: str | None
    # (latitude, longitude) the row's pair means read the other way round, when only that way
    # lies in Japan.
    swapped: tuple[float, float] | None
    # The town whose representative point the row's address gives, for a row without coordinates
    # (None: it has coordinates, no address, or no town matches).
    town: str | None


def row_to_fix(
    session: Session,
    settings: Settings,
    *,
    layer: LayerDefinition,
    municipality: str,
    version_id: int,
    row: int,
) -> RowToFix:
    """Row ``row`` of the version's file (404 when the file has no such row)."""
    version = datasets.version_row(session, layer.id, municipality, version_id)
    request = uploads.recorded_request(version.options)
    options = uploads.reading_options(
        session, settings, layer=layer, request=request, municipality=municipality
    )
    content = queries.source_content(session, version.source_sha256)
    record = _record(content, version.filename, options, request, row)
    cells = {str(k): "" if v is None else str(v) for k, v in record.properties.items()}
    named = {a.name: h for h, a in attribute_columns(cells, layer, options).items()}
    issues = [i for i in version.report.get("errors", []) if i.get("row") == row]
    address = cells.get(named.get(ADDRESS, ""))
    placeable = not request.reading.town_positions and any(
        i.get("code") == "missing_coordinates" for i in issues
    )
    return RowToFix(
        row=row,
        cells=cells,
        name=cells.get(named.get(layer.name_attribute, "")),
        address=address,
        swapped=next(filter(None, (swapped_pair(i.get("value")) for i in issues)), None),
        town=_town(session, settings, municipality, address) if placeable else None,
    )


def _record(
    content: bytes,
    filename: str,
    options: ImportOptions,
    request: uploads.UploadRequest,
    row: int,
) -> RawRecord:
    report = ImportReport()
    try:
        _, records = read_records(content, filename, options, report=report)
    except ImportRejected:  # a stored version's file was read once; it has no rows if not now
        records = iter(())
    found = next((r for r in apply_edits(records, request.edits, report) if r.row == row), None)
    if found is None:
        raise NotFound(f"このファイルに {row} 行目はありません", f"This file has no row {row}")
    return found


def swapped_pair(value: object) -> tuple[float, float] | None:
    """(latitude, longitude) for a report's "latitude, longitude" value that fits Japan only swapped.

    >>> swapped_pair("135.37, 34.46"), swapped_pair("34.46, 135.37"), swapped_pair("abc")
    ((34.46, 135.37), None, None)
    """
    try:
        first, second = (float(part) for part in str(value).split(","))
    except ValueError:
        return None
    if in_japan(second, first) and not in_japan(first, second):
        return second, first
    return None


def _town(
    session: Session, settings: Settings, municipality: str, address: str | None
) -> str | None:
    if not address:
        return None
    seed = SeedManifest.read(settings.seed_manifest)
    try:
        index = uploads.town_table(session, seed, municipality)
    except InvalidParameter:  # no town table for this prefecture: nothing to offer
        return None
    match = index.match(address)
    return match.town if match is not None and match.lat is not None else None
