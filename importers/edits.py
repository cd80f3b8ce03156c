"""Corrections a person makes to an uploaded file's rows, applied as the file is read again.

The original file is never changed: a corrected version is the same bytes read with the same
options plus these edits, and its report lists each one (row, column, old → new, who).

Examples
--------
>>> from importers import ImportReport, RawRecord
>>> records = [RawRecord(2, None, {"名称": "市役所"}, xy=(135.37, 34.46)),
...            RawRecord(3, None, {"名称": "公民館"}), RawRecord(4, None, {"名称": "重複"})]
>>> edits = [RowEdit(2, column="名称", value="岸和田市役所"), RowEdit(3, position=(135.38, 34.47)),
...          RowEdit(4, drop=True)]
>>> report = ImportReport()
>>> [(r.row, dict(r.properties), r.xy) for r in apply_edits(iter(records), edits, report)]
[(2, {'名称': '岸和田市役所'}, (135.37, 34.46)), (3, {'名称': '公民館'}, (135.38, 34.47))]
>>> [(e["row"], e["change"], e.get("old"), e.get("new")) for e in report.edits]
[(2, 'cell', '市役所', '岸和田市役所'), (3, 'position', None, '34.47, 135.38'), (4, 'drop', None, None)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from importers.base import ImportReport, RawRecord


@dataclass(frozen=True)
class RowEdit:
    """One correction of one row: a cell's new value, a position (lon, lat), or dropping it."""

    row: int
    column: str | None = None
    value: str | None = None
    position: tuple[float, float] | None = None
    drop: bool = False
    by: str = ""  # who made it (the audit log's actor)

    @property
    def key(self) -> tuple[int, str | None, bool, bool]:
        """What the edit changes: a later edit with the same key replaces this one."""
        return self.row, self.column, self.position is not None, self.drop

    def as_dict(self, *, author: bool = True) -> dict[str, Any]:
        """How the edit is recorded with the version's options (and read back).

        ``author=False`` leaves out who made it, where that is said elsewhere (an audit entry's
        actor) or not yet known (a fix waiting to be applied).
        """
        done: dict[str, Any] = {"row": self.row} | ({"by": self.by} if author else {})
        if self.drop:
            done["drop"] = True
        if self.position is not None:
            done["position"] = list(self.position)
        if self.column is not None:
            done |= {"column": self.column, "value": self.value}
        return done

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RowEdit:
        """The edit ``as_dict`` recorded."""
        position = data.get("position")
        column, value = data.get("column"), data.get("value")
        # Read back from a cookie too (the staff's fix queue): a column or value that is not a
        # text is refused here, as TypeError, before it keys or fills a row.
        if not all(part is None or isinstance(part, str) for part in (column, value)):
            raise TypeError(f"an edit's column and value are texts, not {column!r}, {value!r}")
        return cls(
            row=int(data["row"]),
            column=column,
            value=value,
            position=(float(position[0]), float(position[1])) if position else None,
            drop=bool(data.get("drop", False)),
            by=str(data.get("by", "")),
        )


def apply_edits(
    records: Iterator[RawRecord], edits: Iterable[RowEdit], report: ImportReport
) -> Iterator[RawRecord]:
    """The records with ``edits`` applied, each noted in ``report.edits``.

    Dropped rows are counted as left out.
    """
    by_row: dict[int, list[RowEdit]] = {}
    for edit in edits:
        by_row.setdefault(edit.row, []).append(edit)
    for record in records:
        changes = by_row.get(record.row)
        if not changes:
            yield record
            continue
        if any(e.drop for e in changes):
            report.left_out += 1
            report.edits.append({"row": record.row, "change": "drop", "by": changes[0].by})
            continue
        properties = dict(record.properties)
        for edit in changes:
            if edit.column is not None:
                old = properties.get(edit.column)
                properties[edit.column] = edit.value
                report.edits.append(
                    {
                        "row": record.row,
                        "change": "cell",
                        "column": edit.column,
                        "old": None if old is None else str(old),
                        "new": edit.value,
                        "by": edit.by,
                    }
                )
            if edit.position is not None:
                lon, lat = edit.position
                record = dataclasses.replace(
                    record, geometry=None, xy=(lon, lat), srid=4326, error=None
                )
                report.edits.append(
                    {"row": record.row, "change": "position", "new": f"{lat}, {lon}", "by": edit.by}
                )
        yield dataclasses.replace(record, properties=properties)
