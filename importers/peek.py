"""A first look at a file before it is imported: its headers, its first rows, its sheets.

The column-mapping screen shows this, so it is read by the very readers an import uses (the
same encoding detection, title-row rule and sheet choice); nothing is mapped or checked here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from importers.base import ImportReport, Issue
from importers.columns import match_columns
from importers.csv import read_table
from importers.excel import excel_table, old_excel_table
from importers.options import KEEP_COLUMN, ImportOptions
from importers.registry import detect_format, read_records
from importers.tabular import Table, check_width, coordinate_roles
from layers import LayerDefinition

PREVIEW_ROWS = 5
_CELL_CHARACTERS = 80  # a preview cell is a reminder of the column, not the data


@dataclass(frozen=True)
class FilePeek:
    """What a file holds, as an import would read it with the same options.

    ``sheets`` lists a spreadsheet's sheets (empty for other formats); ``encoding`` is the one
    a text file was read in (None for others); ``warnings`` are the reader's (title rows
    skipped…).
    """

    format: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    sheets: tuple[str, ...]
    encoding: str | None
    warnings: tuple[Issue, ...]

    @property
    def table(self) -> bool:
        """Whether the file is a table (its coordinates are columns too)."""
        return self.format in _TABLES


TableReader = Callable[[bytes, ImportOptions, ImportReport], tuple[Table, Sequence[str] | str]]
_TABLES: Mapping[str, TableReader] = {
    "csv": read_table,
    "xlsx": excel_table,
    "xls": old_excel_table,
    "ods": old_excel_table,
}


def _text(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= _CELL_CHARACTERS else text[: _CELL_CHARACTERS - 1] + "…"


def peek(
    data: bytes, filename: str, options: ImportOptions, *, rows: int = PREVIEW_ROWS
) -> FilePeek:
    r"""The file's headers and first ``rows`` rows, read as an import with ``options`` would.

    Tables (CSV, Excel, OpenDocument) show every column, coordinates included; other formats
    show the properties of their first features.

    Raises
    ------
    ImportRejected
        If the file cannot be read at all (as the import would say).

    Examples
    --------
    >>> data = "AED一覧\n施設,lat,lon\n市役所,34.46,135.37\n".encode("cp932")
    >>> found = peek(data, "aed.csv", ImportOptions())
    >>> found.format, found.headers, found.rows, found.encoding
    ('csv', ('施設', 'lat', 'lon'), (('市役所', '34.46', '135.37'),), 'cp932')
    """
    fmt = options.format or detect_format(data, filename)
    report = ImportReport()
    reader = _TABLES.get(fmt)
    if reader is None:
        _, records = read_records(data, filename, options, report=report)
        first = [dict(r.properties) for r in itertools.islice(records, rows)]
        headers = tuple(dict.fromkeys(h for properties in first for h in properties))
        values = tuple(tuple(_text(p.get(h)) for h in headers) for p in first)
        return FilePeek(fmt, headers, values, (), None, tuple(report.warnings))
    table, detail = reader(data, options, report)
    check_width(table.headers, options)  # a screen per column: bounded as the import is
    width = len(table.headers)
    values = tuple(
        tuple(_text(cells[i] if i < len(cells) else None) for i in range(width))
        for _, cells in itertools.islice(table.rows, rows)
    )
    sheets, encoding = ((), detail) if isinstance(detail, str) else (tuple(detail), None)
    return FilePeek(fmt, tuple(table.headers), values, sheets, encoding, tuple(report.warnings))


def suggested_columns(
    headers: Sequence[str], layer: LayerDefinition, *, table: bool = True
) -> dict[str, str]:
    """What an import would make of each header without a mapping.

    A coordinate role (tables only), an attribute, or ``KEEP_COLUMN`` (kept under its name).

    Examples
    --------
    >>> from layers import load_catalog
    >>> suggested_columns(["施設名称", "緯度", "経度", "独自の列"], load_catalog()["aed"])
    {'施設名称': 'name', '緯度': 'latitude', '経度': 'longitude', '独自の列': ''}
    """
    # An address column is both a role and an attribute: the attribute says both.
    found = coordinate_roles(headers, {}) if table else {}
    roles = {headers[i]: role for role, i in found.items() if role != "address"}
    rest = [h for h in headers if h not in roles]
    attributes = {h: a.name for h, a in match_columns(rest, layer).items()}
    return {h: roles.get(h) or attributes.get(h, KEEP_COLUMN) for h in headers}
