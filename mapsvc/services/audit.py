"""Reading the audit log: every upload, publish, rollback, sign-in and account or key action."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy.orm import Session

from mapsvc.db import staff
from mapsvc.db.models import AuditRow
from mapsvc.services.downloads import excel_csv

CSV_LIMIT = 100_000
CSV_HEADER = (
    "日時 at",
    "誰が actor",
    "操作 action",
    "結果 result",
    "レイヤ layer",
    "市区町村 municipality",
    "版 version",
    "詳細 detail",
)


def entries(
    session: Session, filters: Mapping[str, Any], *, limit: int, offset: int = 0
) -> list[AuditRow]:
    """A page of entries, newest first, matching the filters (see ``db.staff.audit_page``)."""
    return list(staff.audit_page(session, filters, limit=limit, offset=offset))


def version_numbers(session: Session, rows: Iterable[AuditRow]) -> dict[int, int]:
    """Each row's version as people know it: its number within its dataset ("版 3"), by id."""
    return staff.version_numbers(session, {row.version_id for row in rows if row.version_id})


def entries_csv(session: Session, filters: Mapping[str, Any]) -> str:
    """The matching entries for Excel: UTF-8 with a BOM, formulas made inert."""
    return excel_csv(
        CSV_HEADER,
        (
            [
                row.at.isoformat(),
                row.actor,
                row.action,
                row.result,
                row.layer_id,
                row.municipality_code,
                row.version_id,
                orjson.dumps(row.detail).decode(),
            ]
            for row in entries(session, filters, limit=CSV_LIMIT)
        ),
    )
