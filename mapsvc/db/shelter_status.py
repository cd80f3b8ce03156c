"""SQL of shelter status (events, the current state per site) and of emergencies (migration 0021)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.errors import UniqueViolation
from sqlalchemy import Row, and_, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mapsvc.db.features import f, published_feature
from mapsvc.db.models import (
    EmergencyRow,
    MunicipalityRow,
    ShelterStatusCurrentRow,
    ShelterStatusEventRow,
)
from mapsvc.errors import Conflict

SITE = ("layer_id", "municipality_code", "feature_key", "mode")
CHANGE_ID = "uq_shelter_status_event_change_id"  # the unique index of the events' change ids


def change_id_of_another_site() -> Conflict:
    """A client's change id already names a change of another site (or mode)."""
    return Conflict(
        "この変更IDは別の避難所の変更に使われています",
        "This change id was used for a change of another site",
    )


def published_site(session: Session, layer_id: str, code: str, key: str) -> dict[str, Any] | None:
    """The properties of the published feature that is this site, or None if there is none."""
    return session.execute(
        select(f.properties).where(
            f.layer_id == layer_id, f.municipality_code == code, f.feature_key == key
        )
    ).scalar_one_or_none()


def lock_site(session: Session, layer_id: str, code: str, key: str, mode: str) -> None:
    """Serialise the changes of one site in one mode until the transaction ends.

    An advisory lock, since the site's current row may not exist yet: two first changes would
    otherwise both insert it.
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:site, 28))"),
        {"site": f"{layer_id}\x1f{code}\x1f{key}\x1f{mode}"},
    )


def current_row(
    session: Session, layer_id: str, code: str, key: str, mode: str
) -> ShelterStatusCurrentRow | None:
    """The site's current status row in this mode (read after ``lock_site``: the latest)."""
    return session.scalars(
        select(ShelterStatusCurrentRow)
        .where(
            ShelterStatusCurrentRow.layer_id == layer_id,
            ShelterStatusCurrentRow.municipality_code == code,
            ShelterStatusCurrentRow.feature_key == key,
            ShelterStatusCurrentRow.mode == mode,
        )
        .execution_options(populate_existing=True)
    ).one_or_none()


def event_by_change_id(session: Session, change_id: UUID) -> ShelterStatusEventRow | None:
    """The event a client's change id made, if it made one."""
    return session.scalars(
        select(ShelterStatusEventRow).where(ShelterStatusEventRow.change_id == change_id)
    ).one_or_none()


def record(
    session: Session,
    values: dict[str, Any],
    *,
    opened_at: datetime | None,
    closed_at: datetime | None,
    opens: bool,
    closes: bool,
) -> ShelterStatusCurrentRow:
    """Append the event and write the site's current row from it, in the caller's transaction.

    ``values``: the event's columns (site, mode, revision, status fields, actor, change id).
    ``opens``/``closes``: the status turns open/closed now, so that time is the event's (the
    transaction's, ``now()``); otherwise the site keeps ``opened_at``/``closed_at``. Reopening
    clears the closing time.
    """
    values = values | {
        "opened_at": func.now() if opens else opened_at,
        "closed_at": None if opens else func.now() if closes else closed_at,
    }
    try:
        new = session.execute(
            insert(ShelterStatusEventRow).values(**values).returning(ShelterStatusEventRow)
        ).scalar_one()
    except IntegrityError as clash:
        # The site's lock does not cover another site: a change id sent for two sites at once
        # passes both look-ups, and the second insert meets the first at the unique index.
        orig = clash.orig
        if isinstance(orig, UniqueViolation) and orig.diag.constraint_name == CHANGE_ID:
            raise change_id_of_another_site() from None
        raise
    row = {k: getattr(new, k) for k in values if k not in ("actor", "change_id")}
    row |= {"event_id": new.id, "updated_at": new.recorded_at, "updated_by": new.actor}
    statement = pg_insert(ShelterStatusCurrentRow).values(**row)
    upsert = statement.on_conflict_do_update(
        index_elements=list(SITE), set_={k: statement.excluded[k] for k in row if k not in SITE}
    )
    return session.scalars(
        upsert.returning(ShelterStatusCurrentRow),
        execution_options={"populate_existing": True},
    ).one()


def current_rows(
    session: Session, layer_id: str, code: str | None, mode: str
) -> Sequence[ShelterStatusCurrentRow]:
    """The current status of every site of the layer (of one municipality) in this mode."""
    statement = select(ShelterStatusCurrentRow).where(
        ShelterStatusCurrentRow.layer_id == layer_id, ShelterStatusCurrentRow.mode == mode
    )
    if code is not None:
        statement = statement.where(ShelterStatusCurrentRow.municipality_code == code)
    return session.scalars(statement).all()


def events(
    session: Session, layer_id: str, code: str, key: str, mode: str
) -> Sequence[ShelterStatusEventRow]:
    """The site's events in this mode, oldest first."""
    return session.scalars(
        select(ShelterStatusEventRow)
        .where(
            ShelterStatusEventRow.layer_id == layer_id,
            ShelterStatusEventRow.municipality_code == code,
            ShelterStatusEventRow.feature_key == key,
            ShelterStatusEventRow.mode == mode,
        )
        .order_by(ShelterStatusEventRow.id)
    ).all()


def published_sites(session: Session, layer_ids: Sequence[str], code: str) -> Sequence[Row[Any]]:
    """The municipality's published features of the layers, with the ward each lies in.

    Each as (layer_id, feature_key, properties, lon, lat, ward code, ward name ja, ward name en).
    """
    ward = MunicipalityRow.__table__.alias("ward")
    return session.execute(
        select(
            f.layer_id,
            f.feature_key,
            f.properties,
            func.ST_X(func.ST_PointOnSurface(f.geom)).label("lon"),
            func.ST_Y(func.ST_PointOnSurface(f.geom)).label("lat"),
            ward.c.code.label("ward_code"),
            ward.c.name_ja.label("ward_ja"),
            ward.c.name_en.label("ward_en"),
        )
        .select_from(published_feature)
        .outerjoin(
            ward,
            and_(
                ward.c.kind == "ward",
                ward.c.parent_code == f.municipality_code,
                func.ST_Covers(ward.c.boundary, f.geom),
            ),
        )
        .where(f.layer_id.in_(layer_ids), f.municipality_code == code)
        .order_by(f.layer_id, f.feature_key)
    ).all()


def open_emergency(session: Session, code: str, mode: str) -> EmergencyRow | None:
    """The municipality's emergency that has not ended in this mode, locked for the caller."""
    return session.scalars(
        select(EmergencyRow)
        .where(
            EmergencyRow.municipality_code == code,
            EmergencyRow.mode == mode,
            EmergencyRow.ended_at.is_(None),
        )
        .with_for_update()
    ).one_or_none()


def end_emergency(session: Session, emergency_id: int, actor: str) -> None:
    """Mark the emergency ended now."""
    session.execute(
        update(EmergencyRow)
        .where(EmergencyRow.id == emergency_id)
        .values(ended_at=func.now(), ended_by=actor)
    )


def active_emergencies(
    session: Session,
    *,
    codes: Sequence[str] | None,
    bbox: tuple[float, float, float, float] | None,
    mode: str,
) -> Sequence[EmergencyRow]:
    """Emergencies not ended in this mode, of these municipalities or touching the box.

    A ward's area is its city's: an emergency is the municipality's, and a box over a ward of
    Osaka City touches Osaka City's outline.
    """
    statement = (
        select(EmergencyRow)
        .where(EmergencyRow.mode == mode, EmergencyRow.ended_at.is_(None))
        .order_by(EmergencyRow.started_at, EmergencyRow.id)
    )
    if codes is not None:
        statement = statement.where(EmergencyRow.municipality_code.in_(codes))
    if bbox is not None:
        touching = select(MunicipalityRow.code).where(
            func.ST_Intersects(MunicipalityRow.boundary, func.ST_MakeEnvelope(*bbox, 4326))
        )
        statement = statement.where(EmergencyRow.municipality_code.in_(touching))
    return session.scalars(statement).all()


def status_state(session: Session, layer_ids: Sequence[str]) -> str:
    """A short text that changes whenever a site's status of these layers or an emergency does.

    Sums only grow with committed changes (each event adds one to one site's revision; an
    emergency counts once started and again once ended), so a reader never sees it go back.
    """
    return str(
        session.execute(
            text(
                "SELECT (SELECT coalesce(sum(revision), 0) FROM shelter_status_current "
                "WHERE layer_id = ANY(:layers)) || ':' || "
                "(SELECT count(*) + count(ended_at) FROM emergency)"
            ),
            {"layers": list(layer_ids)},
        ).scalar_one()
    )


@dataclass(frozen=True, kw_only=True)
class StatusQuery:
    """Which sites' states a client asked for: the layers, an owner, a box, a time, a page.

    ``at``: the state as it was then (each site's latest event at or before it; None: now).
    ``since``: only the sites whose state changed at or after it (and by ``at``).
    """

    layer_ids: Sequence[str]
    mode: str
    code: str | None = None
    key: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    at: datetime | None = None
    since: datetime | None = None
    limit: int = 100
    offset: int = 0


STATE_COLUMNS = (
    "layer_id",
    "municipality_code",
    "feature_key",
    "mode",
    "revision",
    "status",
    "accepting",
    "evacuees",
    "capacity",
    "note",
    "opened_at",
    "closed_at",
)


def _states(query: StatusQuery) -> Any:
    """Each site's state (now, or as at ``query.at``) as one subquery with the same columns."""
    if query.at is None:
        now = ShelterStatusCurrentRow.__table__.c
        columns = [now[name] for name in STATE_COLUMNS]
        return select(*columns, now.updated_at.label("updated_at")).where(
            now.mode == query.mode, now.layer_id.in_(query.layer_ids)
        )
    e = ShelterStatusEventRow.__table__.c
    columns = [e[name] for name in STATE_COLUMNS]
    return (
        select(*columns, e.recorded_at.label("updated_at"))
        .distinct(e.layer_id, e.municipality_code, e.feature_key)
        .where(e.mode == query.mode, e.layer_id.in_(query.layer_ids), e.recorded_at <= query.at)
        .order_by(e.layer_id, e.municipality_code, e.feature_key, e.id.desc())
    )


def site_states(session: Session, query: StatusQuery) -> Sequence[Row[Any]]:
    """A page of published sites with their state, properties and point (lon, lat).

    The state's columns are null where none is recorded.
    """
    s = _states(query).subquery()
    statement = (
        select(
            f.layer_id,
            f.municipality_code,
            f.feature_key,
            *(s.c[name] for name in STATE_COLUMNS[4:]),
            s.c.updated_at,
            f.properties.label("properties"),
            func.ST_X(func.ST_PointOnSurface(f.geom)).label("lon"),
            func.ST_Y(func.ST_PointOnSurface(f.geom)).label("lat"),
        )
        .select_from(published_feature)
        .outerjoin(
            s,
            and_(
                s.c.layer_id == f.layer_id,
                s.c.municipality_code == f.municipality_code,
                s.c.feature_key == f.feature_key,
            ),
        )
        .where(f.layer_id.in_(query.layer_ids))
        .order_by(f.layer_id, f.municipality_code, f.feature_key)
        .limit(query.limit)
        .offset(query.offset)
    )
    if query.code is not None:
        statement = statement.where(f.municipality_code == query.code)
    if query.key is not None:
        statement = statement.where(f.feature_key == query.key)
    if query.bbox is not None:
        statement = statement.where(
            func.ST_Intersects(f.geom, func.ST_MakeEnvelope(*query.bbox, 4326))
        )
    if query.since is not None:
        statement = statement.where(s.c.updated_at >= query.since)
    return session.execute(statement).all()


def site_point(
    session: Session, layer_id: str, code: str, key: str
) -> tuple[float, float, dict[str, Any]] | None:
    """The published site's point (lon, lat) and properties, or None."""
    row = session.execute(
        select(
            func.ST_X(func.ST_PointOnSurface(f.geom)),
            func.ST_Y(func.ST_PointOnSurface(f.geom)),
            f.properties,
        ).where(f.layer_id == layer_id, f.municipality_code == code, f.feature_key == key)
    ).first()
    return None if row is None else (float(row[0]), float(row[1]), row[2])
