"""The types every importer shares: raw records, features and the import report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found in one row (or the whole file when ``row`` is None), in ja and en."""

    code: str
    message_ja: str
    message_en: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, JSONValue]:
        """JSON-ready form, the shape used in every report."""
        return {
            "code": self.code,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One row or feature as a format module read it, before mapping to the catalog.

    ``row`` is the 1-based position a person would use to find it in the file (a CSV's data row,
    a GeoJSON feature's index); ``srid`` is the CRS the geometry's coordinates are in.
    """

    row: int
    geometry: BaseGeometry | None
    properties: Mapping[str, Any]
    srid: int = 4326
    error: Issue | None = None  # a problem the reader found (e.g. unreadable coordinates)
    xy: tuple[float, float] | None = None  # a point as numbers, built in batches by the pipeline


@dataclass(frozen=True, slots=True)
class Feature:
    """A validated feature in EPSG:4326 with catalog-mapped properties."""

    row: int
    source_id: str | None
    geometry: BaseGeometry
    properties: Mapping[str, JSONValue]
    key: str = ""  # unique in the file: the source ID (with "~n" on its nth use) or "r<row>"

    @property
    def __geo_interface__(self) -> dict[str, Any]:
        """GeoJSON-like mapping, so shapely, folium and geopandas read a Feature directly."""
        return {
            "type": "Feature",
            "id": self.source_id,
            "geometry": shapely.geometry.mapping(self.geometry),
            "properties": dict(self.properties),
        }


@dataclass(slots=True)
class ImportReport:
    """What an import read, accepted and rejected, and why."""

    rows: int = 0
    accepted: int = 0
    left_out: int = 0  # rows the caller's row filter (ImportOptions.where) did not keep
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    edits: list[dict[str, JSONValue]] = field(default_factory=list)  # corrections made by a person

    @property
    def rejected(self) -> int:
        """Rows that produced no feature."""
        return self.rows - self.accepted

    def acceptable(self, *, accept_partial: bool = False) -> bool:
        """The one accept/reject rule: some rows accepted, and no row errors unless partial is allowed.

        Examples
        --------
        >>> report = ImportReport(rows=3, accepted=2, errors=[Issue("x", "誤り", "wrong", row=4)])
        >>> report.acceptable(), report.acceptable(accept_partial=True)
        (False, True)
        >>> ImportReport(rows=0, accepted=0).acceptable(accept_partial=True)
        False
        """
        return self.accepted > 0 and (not self.errors or accept_partial)

    def as_rejection(self, issue: Issue | None, fmt: str | None) -> dict[str, JSONValue]:
        """The report of a rejected file: the file-level ``issue`` (if any) leads the errors."""
        errors: list[JSONValue] = [issue.as_dict()] if issue is not None else []
        errors += [i.as_dict() for i in self.errors]
        return self.as_dict() | {
            "format": fmt,
            "errors": errors,
            "rejected_file": issue is not None,
        }

    def as_dict(self) -> dict[str, JSONValue]:
        """JSON-ready form, stored with each version."""
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "left_out": self.left_out,
            "errors": [i.as_dict() for i in self.errors],
            "warnings": [i.as_dict() for i in self.warnings],
            "edits": list(self.edits),
        }


class ImportRejected(ValueError):
    """The whole file cannot be imported; ``issue`` says why in ja and en."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message_en)
        self.issue = issue

    @classmethod
    def because(
        cls, code: str, message_ja: str, message_en: str, *, value: str | None = None
    ) -> ImportRejected:
        """A file-level rejection (no row), with the offending ``value`` if there is one.

        Examples
        --------
        >>> error = ImportRejected.because("empty_file", "ファイルが空です", "The file is empty")
        >>> error.issue.code, error.issue.row, str(error)
        ('empty_file', None, 'The file is empty')
        """
        return cls(Issue(code, message_ja, message_en, value=value))
