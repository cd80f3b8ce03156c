"""Read CSV and TSV files (UTF-8, UTF-8 with BOM, CP932, UTF-16 with BOM)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.options import ImportOptions
from importers.tabular import Table, records_from_table, split_header
from importers.text import decode, lines


def read_table(data: bytes, options: ImportOptions, report: ImportReport) -> tuple[Table, str]:
    r"""Decode and split a delimited text file (comma or tab); return the table and the encoding.

    Examples
    --------
    >>> from importers import ImportOptions
    >>> data = "名称\t住所\n市役所\t岸和田市岸城町7-1\n".encode("cp932")
    >>> table, encoding = read_table(data, ImportOptions(), ImportReport())
    >>> table.headers, encoding
    (['名称', '住所'], 'cp932')
    """
    if not data.strip():
        raise ImportRejected.because("empty_file", "ファイルが空です", "The file is empty")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRejected.because(
            "binary_file", "テキスト（CSV）ファイルではありません", "This is not a text (CSV) file"
        )
    text, codec = decode(data, options.encoding, name="CSV")
    first_line = next(lines(text), "")
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(lines(text), delimiter=delimiter)
    # Excel row numbers: the first line is row 1. A quoted line break keeps one row.
    empty = Issue("empty_file", "ファイルが空です", "The file is empty")
    return split_header(enumerate(reader, start=1), report, empty=empty), codec


def read_csv(data: bytes, options: ImportOptions, report: ImportReport) -> Iterator[RawRecord]:
    r"""Yield a record per data row; a header-only file is rejected.

    Parameters
    ----------
    data
        The file's bytes.
    options
        The caller's choices (encoding, CRS, columns) and the limits.
    report
        Collects file-level warnings as the rows stream.

    Yields
    ------
    RawRecord
        ``row`` is the row number as Excel shows it (the header is row 1).

    Examples
    --------
    >>> from importers import ImportOptions, ImportReport
    >>> data = "名称,緯度,経度\n市役所,34.46,135.37\n".encode()
    >>> [(r.row, r.xy, dict(r.properties)) for r in read_csv(data, ImportOptions(), ImportReport())]
    [(2, (135.37, 34.46), {'名称': '市役所'})]
    """
    table, codec = read_table(data, options, report)
    if codec == "cp932":
        report.warnings.append(
            Issue(
                "encoding_cp932",
                "文字コードを Shift_JIS（CP932）として読みました",
                "Read the file as Shift_JIS (CP932)",
            )
        )
    yield from records_from_table(table, options, report)
