"""Read spreadsheets: Excel .xlsx (openpyxl), old Excel .xls and OpenDocument .ods (calamine).

All three go through one table builder: the same header rule, column mapping and Excel row
numbers whichever program saved the file.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence

import openpyxl
from python_calamine import CalamineWorkbook

from importers.archive import SafeZip
from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.options import ImportOptions
from importers.tabular import Table, records_from_table, split_header


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
    table, _ = excel_table(data, options, report)
    yield from records_from_table(table, options, report)


def excel_table(
    data: bytes, options: ImportOptions, report: ImportReport
) -> tuple[Table, list[str]]:
    """The chosen sheet of an .xlsx as a table (title rows skipped), and the workbook's sheets."""
    # An .xlsx is a zip: refuse bombs, and tables too big to build, before openpyxl inflates it.
    _check_workbook_size(SafeZip(data, options.limits), options)
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
    sheet = workbook[_sheet_name(workbook.sheetnames, options)]
    rows = enumerate(sheet.iter_rows(values_only=True), start=1)
    return _table(rows, report), list(workbook.sheetnames)


_CELLS = (b"<c ", b"<c>", b":c ", b":c>")  # <x:c …> where the writer uses a prefix
_STRINGS = (b"<si>", b"<si ", b":si>", b":si ")


def _check_workbook_size(archive: SafeZip, options: ImportOptions) -> None:
    """Cells within the limit, and no more shared strings than cells could use.

    openpyxl builds every shared string before the first row: a 2.6 MB file of a million
    unused strings cost 7 s of CPU for one real row. Excel and LibreOffice keep only the
    strings cells use, so a table far larger than its cells is refused at once.
    """
    cells = sum(archive.count(n, _CELLS) for n in archive.find(".xml") if "worksheets/" in n)
    if cells > options.limits.max_cells:
        raise ImportRejected.because(
            "too_many_cells",
            f"セルが多すぎます（{cells:,}、上限 {options.limits.max_cells:,}）",
            f"Too many cells ({cells:,}; at most {options.limits.max_cells:,})",
        )
    strings = sum(archive.count(n, _STRINGS) for n in archive.find("sharedstrings.xml"))
    if strings > cells + 10_000:
        raise ImportRejected.because(
            "bad_excel",
            f"文字列の表がセルの数より大きすぎます（文字列 {strings:,}、セル {cells:,}）。"
            "Excel で開いて保存し直してください",
            f"The shared-string table is far larger than the cells ({strings:,} strings, "
            f"{cells:,} cells): open the file in Excel and save it again",
        )


def read_old_excel(
    data: bytes, options: ImportOptions, report: ImportReport
) -> Iterator[RawRecord]:
    """Yield a record per data row of an Excel 97-2003 (.xls) or OpenDocument (.ods) sheet.

    Read with python-calamine; empty leading rows are kept, so row numbers are Excel's, and the
    column mapping is the one .xlsx files get.

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
    >>> import io, xlwt
    >>> from importers import ImportOptions, ImportReport
    >>> book = xlwt.Workbook(encoding="utf-8")
    >>> sheet = book.add_sheet("AED")
    >>> for col, text in enumerate(["施設名称", "緯度", "経度"]):
    ...     sheet.write(2, col, text)  # a title above: the header is on row 3
    >>> for col, value in enumerate(["市役所", 34.46, 135.37]):
    ...     sheet.write(3, col, value)
    >>> file = io.BytesIO()
    >>> book.save(file)
    >>> [(r.row, r.xy, dict(r.properties)) for r in read_old_excel(file.getvalue(), ImportOptions(), ImportReport())]
    [(4, (135.37, 34.46), {'施設名称': '市役所'})]
    """
    table, _ = old_excel_table(data, options, report)
    yield from records_from_table(table, options, report)


def old_excel_table(
    data: bytes, options: ImportOptions, report: ImportReport
) -> tuple[Table, list[str]]:
    """The chosen sheet of an .xls or .ods as a table (title rows skipped), and its sheets."""
    if data[:4] == b"PK\x03\x04":
        SafeZip(data, options.limits)  # an .ods is a zip: refuse bombs before it is inflated
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_name(_sheet_name(workbook.sheet_names, options))
        table = sheet.to_python(skip_empty_area=False)  # .xls holds at most 65,536 rows
    except ImportRejected:
        raise
    except Exception as exc:  # calamine's errors for a damaged or password-protected file
        raise ImportRejected(
            Issue(
                "bad_excel",
                "Excel（.xls）または OpenDocument（.ods）ファイルとして読めません",
                f"Cannot read this .xls or .ods file: {exc}",
            )
        ) from exc
    return _table(enumerate(table, start=1), report), list(workbook.sheet_names)


def _sheet_name(names: Sequence[str], options: ImportOptions) -> str:
    if options.sheet is None:
        if not names:
            raise ImportRejected.because(
                "empty_file", "シートがありません", "The file has no sheet"
            )
        return names[0]
    if options.sheet not in names:
        raise ImportRejected(
            Issue(
                "unknown_sheet",
                f"シート「{options.sheet}」がありません（{'、'.join(names)}）",
                f"No sheet {options.sheet!r} (sheets: {', '.join(names)})",
            )
        )
    return options.sheet


def _table(rows: Iterator[tuple[int, Sequence[object]]], report: ImportReport) -> Table:
    empty = Issue("empty_file", "シートが空です", "The sheet is empty")
    return split_header(rows, report, empty=empty)
