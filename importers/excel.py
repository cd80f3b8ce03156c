"""Read Excel workbooks (.xlsx): the named sheet or the first one."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence

import openpyxl

from importers.archive import SafeZip
from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.options import ImportOptions
from importers.tabular import Table, records_from_table


def read_excel(data: bytes, options: ImportOptions, report: ImportReport) -> Iterator[RawRecord]:
    """Yield a record per data row of the chosen sheet (the header is its first non-empty row).

    Formulas are read as their cached values; row numbers are Excel's.

    Parameters
    ----------
    data
        The file's bytes.
    options
        The caller's choices (sheet, CRS, columns) and the limits.
    report
        Collects file-level warnings as the rows stream.

    Examples
    --------
    >>> import io, openpyxl
    >>> from importers import ImportOptions, ImportReport
    >>> book = openpyxl.Workbook()
    >>> book.active.append(["施設名称", "緯度", "経度"])
    >>> book.active.append(["市役所", 34.46, 135.37])
    >>> file = io.BytesIO()
    >>> book.save(file)
    >>> [(r.row, r.xy, dict(r.properties)) for r in read_excel(file.getvalue(), ImportOptions(), ImportReport())]
    [(2, (135.37, 34.46), {'施設名称': '市役所'})]
    """
    SafeZip(data, options.limits)  # an .xlsx is a zip: refuse bombs before openpyxl inflates it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about styles it does not understand
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise ImportRejected(
                Issue(
                    "bad_excel",
                    "Excelファイルとして読めません",
                    f"Cannot read this Excel file: {exc}",
                )
            ) from exc
    if options.sheet is not None and options.sheet not in workbook.sheetnames:
        raise ImportRejected(
            Issue(
                "unknown_sheet",
                f"シート「{options.sheet}」がありません（{'、'.join(workbook.sheetnames)}）",
                f"No sheet {options.sheet!r} (sheets: {', '.join(workbook.sheetnames)})",
            )
        )
    sheet = workbook[options.sheet] if options.sheet else workbook.worksheets[0]
    rows = ((n, list(v)) for n, v in enumerate(sheet.iter_rows(values_only=True), start=1))
    header: Sequence[object] | None = None
    for _, values in rows:
        if any(v not in (None, "") for v in values):
            header = values
            break
    if header is None:
        raise ImportRejected.because("empty_file", "シートが空です", "The sheet is empty")
    headers = ["" if h is None else str(h).strip() for h in header]
    while headers and headers[-1] == "":
        headers.pop()
    data_rows = ((n, v[: len(headers)]) for n, v in rows if any(c not in (None, "") for c in v))
    yield from records_from_table(Table(headers, data_rows), options, report)
