"""SQL of upload progress: one row per job, upserted while the rows are checked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from mapsvc.db.models import UploadProgressRow


def record(session: Session, job: str, rows: int, done: bool) -> None:
    """Set ``job``'s count (a new job gets a row)."""
    statement = insert(UploadProgressRow).values(job=job, rows=rows, done=done)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[UploadProgressRow.job],
            set_={"rows": rows, "done": done, "updated_at": func.now()},
        )
    )


def find(session: Session, job: str, max_age: timedelta) -> tuple[int, bool] | None:
    """``(rows, done)`` of ``job`` if it was updated within ``max_age``."""
    found = session.execute(
        select(UploadProgressRow.rows, UploadProgressRow.done).where(
            UploadProgressRow.job == job, UploadProgressRow.updated_at > func.now() - max_age
        )
    ).first()
    return None if found is None else (found.rows, found.done)


def forget_older_than(session: Session, age: timedelta) -> None:
    """Drop the jobs nobody can still be polling."""
    session.execute(
        delete(UploadProgressRow).where(UploadProgressRow.updated_at < func.now() - age)
    )
