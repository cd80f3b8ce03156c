"""SQL of harvesting: sources, their claim by one worker, their fetch history and freshness."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from mapsvc.db.models import DatasetRow, HarvestFetchRow, HarvestSourceRow


def source_of(session: Session, dataset_id: int) -> HarvestSourceRow | None:
    """The dataset's source, if it has one."""
    return session.scalars(
        select(HarvestSourceRow).where(HarvestSourceRow.dataset_id == dataset_id)
    ).one_or_none()


def get_source(session: Session, source_id: int) -> HarvestSourceRow | None:
    """A source by id."""
    return session.get(HarvestSourceRow, source_id)


def save_source(session: Session, dataset_id: int, values: dict[str, Any]) -> HarvestSourceRow:
    """Create the dataset's source or replace its definition (its history and state are kept).

    A new definition is due at once and forgets the last file's validators and hash: the same
    file read with new options must be read again.
    """
    found = source_of(session, dataset_id)
    reset = {"etag": None, "last_modified": None, "last_sha256": None, "failures": 0}
    if found is None:
        found = HarvestSourceRow(dataset_id=dataset_id, **values)
        session.add(found)
    else:
        for name, value in (values | reset | {"flagged": False}).items():
            setattr(found, name, value)
        found.next_run_at = now(session)
    session.flush()
    return found


def list_sources(session: Session) -> list[tuple[HarvestSourceRow, DatasetRow]]:
    """Every source with its dataset, by municipality and layer."""
    statement = (
        select(HarvestSourceRow, DatasetRow)
        .join(DatasetRow, DatasetRow.id == HarvestSourceRow.dataset_id)
        .order_by(DatasetRow.municipality_code, DatasetRow.layer_id)
    )
    return [(source, dataset) for source, dataset in session.execute(statement).tuples()]


def claim_due(session: Session, lease: timedelta, source_id: int | None = None) -> int | None:
    """Lease one due source (or the given one, due or not) to this worker; its id, or None.

    ``FOR UPDATE SKIP LOCKED`` makes concurrent claims pass over each other's rows, and the
    lease (``claimed_until``) keeps the source from every other worker until the run records
    its result, or until the lease runs out after a crash. The caller commits at once.
    """
    row = session.execute(
        text(
            "UPDATE harvest_source SET claimed_until = now() + :lease WHERE id = ("
            "  SELECT id FROM harvest_source"
            "  WHERE (CASE WHEN CAST(:source_id AS integer) IS NULL THEN next_run_at <= now()"
            "         ELSE id = :source_id END)"
            "  AND NOT paused AND (claimed_until IS NULL OR claimed_until < now())"
            "  ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED"
            ") RETURNING id"
        ),
        {"lease": lease, "source_id": source_id},
    ).one_or_none()
    return None if row is None else int(row[0])


def record_fetch(
    session: Session, source: HarvestSourceRow, fetch: dict[str, Any], changes: dict[str, Any]
) -> None:
    """Add a fetch to the history, apply ``changes`` to the source and release its lease."""
    session.add(HarvestFetchRow(source_id=source.id, **fetch))
    session.execute(
        update(HarvestSourceRow)
        .where(HarvestSourceRow.id == source.id)
        .values(**changes, claimed_until=None, last_checked_at=text("now()"))
    )
    session.flush()
    session.refresh(source)


def forget_fetches(session: Session, source_id: int, *, keep: int) -> None:
    """Delete all but the source's ``keep`` latest fetches."""
    session.execute(
        text(
            "DELETE FROM harvest_fetch WHERE source_id = :source_id AND id NOT IN ("
            "  SELECT id FROM harvest_fetch WHERE source_id = :source_id"
            "  ORDER BY at DESC, id DESC LIMIT :keep)"
        ),
        {"source_id": source_id, "keep": keep},
    )


def set_paused(session: Session, source_id: int, paused: bool) -> None:
    """Pause or resume a source (a resumed source is due at once)."""
    values: dict[str, Any] = {"paused": paused}
    if not paused:
        values["next_run_at"] = text("now()")
    session.execute(
        update(HarvestSourceRow).where(HarvestSourceRow.id == source_id).values(**values)
    )


def settle(session: Session, dataset_id: int) -> bool:
    """A person has decided on what the dataset's source fetched: it no longer needs one.

    The problem shown goes too, unless the source is failing (that problem is still true).
    Whether the source needed a person.
    """
    found = session.execute(
        text(
            "UPDATE harvest_source SET needs_person = false,"
            " problem_ja = CASE WHEN flagged THEN problem_ja END,"
            " problem_en = CASE WHEN flagged THEN problem_en END"
            " WHERE dataset_id = :dataset_id AND needs_person RETURNING id"
        ),
        {"dataset_id": dataset_id},
    ).one_or_none()
    return found is not None


def history(session: Session, source_id: int, limit: int) -> list[HarvestFetchRow]:
    """The source's latest fetches, newest first."""
    return list(
        session.scalars(
            select(HarvestFetchRow)
            .where(HarvestFetchRow.source_id == source_id)
            .order_by(HarvestFetchRow.at.desc(), HarvestFetchRow.id.desc())
            .limit(limit)
        )
    )


def now(session: Session) -> datetime:
    """The database's clock (one clock for every worker and host)."""
    found: datetime = session.execute(text("SELECT now()")).scalar_one()
    return found


def sources_by_dataset(session: Session) -> list[tuple[str, str, HarvestSourceRow]]:
    """(layer, municipality, source) of every dataset that has a source."""
    return [
        (dataset.layer_id, dataset.municipality_code, s) for s, dataset in list_sources(session)
    ]


def freshness_state(session: Session) -> str:
    """A digest of everything the public freshness shows: changes whenever any of it does."""
    found: str = session.execute(
        text(
            "SELECT md5(coalesce(string_agg(concat_ws('|', id, kind, url, paused, failures,"
            " flagged, needs_person, last_checked_at, last_changed_at, problem_en), ','"
            " ORDER BY id), '')) FROM harvest_source"
        )
    ).scalar_one()
    return found
