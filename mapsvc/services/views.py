"""What the use cases hand the front ends: frozen views, never database rows.

A view holds facts, not words: choosing a language, formatting and rendering belong to the
front end that shows it (the JSON API, the staff pages, the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapsvc.db.models import VersionRow


@dataclass(frozen=True)
class Words:
    """A name in both languages: the front end shows the one its reader chose."""

    ja: str
    en: str


@dataclass(frozen=True)
class MunicipalityName:
    """A municipality (or the prefecture): its code and its names."""

    code: str
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class VersionView:
    """One version of a dataset: its file, its state, who made it and its import report."""

    id: int  # the identifier (URLs, commands)
    number: int  # what people read: 1, 2, 3… within the dataset
    status: str  # staged, published or retired
    filename: str
    format: str
    options: dict[str, Any]  # how the file was read (row filter, columns, data date, edits…)
    sha256: str
    feature_count: int
    created_by: str
    created_at: datetime
    published_at: datetime | None
    report: dict[str, Any]

    @classmethod
    def of(cls, row: VersionRow) -> VersionView:
        """The view of a version row."""
        return cls(
            id=row.id,
            number=row.number,
            status=row.status,
            filename=row.filename,
            format=row.format,
            options=dict(row.options or {}),
            sha256=row.source_sha256,
            feature_count=row.feature_count,
            created_by=row.created_by,
            created_at=row.created_at,
            published_at=row.published_at,
            report=row.report,
        )

    def as_json(self, *, report: bool = True) -> dict[str, Any]:
        """The version as the JSON API and the CLI show it (the report unless told not to)."""
        shown: dict[str, Any] = {
            "id": self.id,
            "number": self.number,
            "status": self.status,
            "filename": self.filename,
            "format": self.format,
            "options": self.options,
            "sha256": self.sha256,
            "features": self.feature_count,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }
        if report:
            shown["report"] = self.report
        return shown
