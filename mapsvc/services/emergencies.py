"""A municipality's disaster mode: a hazard, its 警戒レベル and a message, from start to end.

While one is on, the viewer shows its banner to anyone looking at the area and the answers put
the open sites designated for that hazard first. One at a time per municipality and mode (the
database refuses a second): a new hazard or level is a new emergency after the last one ends.
Alert levels are the Cabinet Office's 警戒レベル 1–5 (Guidelines on Evacuation Information, 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mapsvc.db import queries, writes
from mapsvc.db import shelter_status as db
from mapsvc.db.models import EmergencyRow
from mapsvc.errors import Conflict, InvalidParameter, NotFound
from mapsvc.services.shelter_status import HAZARDS, check_mode
from mapsvc.services.transactions import unit_of_work

MESSAGE_MAX = 400


@dataclass(frozen=True)
class Emergency:
    """An emergency as front ends show it."""

    id: int
    code: str
    mode: str
    hazard: str
    alert_level: int
    message_ja: str
    message_en: str
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    ended_by: str | None

    @classmethod
    def of(cls, row: EmergencyRow) -> Emergency:
        """The view of a row."""
        return cls(
            id=row.id,
            code=row.municipality_code,
            mode=row.mode,
            hazard=row.hazard,
            alert_level=row.alert_level,
            message_ja=row.message_ja,
            message_en=row.message_en,
            started_at=row.started_at,
            started_by=row.started_by,
            ended_at=row.ended_at,
            ended_by=row.ended_by,
        )

    def as_json(self) -> dict[str, Any]:
        """The open-data form (the viewer's banner reads it)."""
        return {
            "id": self.id,
            "municipality": self.code,
            "mode": self.mode,
            "hazard": self.hazard,
            "alertLevel": self.alert_level,
            "message": {"ja": self.message_ja, "en": self.message_en},
            "started": self.started_at.isoformat(timespec="seconds"),
            "ended": self.ended_at.isoformat(timespec="seconds") if self.ended_at else None,
        }


def _check(session: Session, code: str, hazard: str, level: int, texts: Sequence[str]) -> None:
    municipality = queries.get_municipality(session, code)
    if municipality is None or municipality.kind in ("ward", "prefecture"):
        raise NotFound("その市区町村はありません", f"No municipality {code!r}")
    if hazard not in HAZARDS:
        raise InvalidParameter(
            f"災害の種類は {'・'.join(HAZARDS)} のどれかです",
            f"hazard is one of {', '.join(HAZARDS)}, not {hazard!r}",
        )
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
        raise InvalidParameter(
            "警戒レベルは 1 から 5 の整数です", "The alert level is an integer from 1 to 5"
        )
    if any(len(t) > MESSAGE_MAX for t in texts):
        raise InvalidParameter(
            f"お知らせは {MESSAGE_MAX} 文字以内にしてください",
            f"A message is at most {MESSAGE_MAX} characters",
        )


def start(
    session: Session,
    actor: str,
    code: str,
    hazard: str,
    level: int,
    message_ja: str,
    message_en: str,
    *,
    mode: str,
) -> Emergency:
    """Turn the municipality's disaster mode on; 409 while one is on in that mode."""
    check_mode(mode)
    _check(session, code, hazard, level, (message_ja, message_en))
    with unit_of_work(session):
        if db.open_emergency(session, code, mode) is not None:
            raise Conflict(
                "この市区町村の災害モードはもう始まっています。変えるときはいったん終了してください",
                "This municipality's disaster mode is already on: end it first to change it",
            )
        row = EmergencyRow(
            municipality_code=code,
            mode=mode,
            hazard=hazard,
            alert_level=level,
            message_ja=message_ja.strip(),
            message_en=message_en.strip(),
            started_by=actor,
        )
        writes.insert_row(session, row)
        session.refresh(row)
        writes.insert_audit(
            session,
            actor=actor,
            action="emergency_start",
            result="ok",
            municipality_code=code,
            detail={"id": row.id, "mode": mode, "hazard": hazard, "alert_level": level},
        )
        writes.mark_publication_changed(session)
        return Emergency.of(row)


def end(session: Session, actor: str, code: str, *, mode: str) -> Emergency:
    """End the municipality's disaster mode; 404 when none is on in that mode."""
    check_mode(mode)
    with unit_of_work(session):
        row = db.open_emergency(session, code, mode)
        if row is None:
            raise NotFound(
                "この市区町村の災害モードは始まっていません",
                "This municipality's disaster mode is not on",
            )
        db.end_emergency(session, row.id, actor)
        session.refresh(row)
        writes.insert_audit(
            session,
            actor=actor,
            action="emergency_end",
            result="ok",
            municipality_code=code,
            detail={"id": row.id, "mode": mode},
        )
        writes.mark_publication_changed(session)
        return Emergency.of(row)


def active(
    session: Session,
    *,
    codes: Sequence[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    mode: str = "real",
) -> list[Emergency]:
    """The emergencies on now in a mode: of these municipalities, or whose area touches ``bbox``.

    ``bbox`` is (west, south, east, north) in CRS84.
    """
    check_mode(mode)
    return [
        Emergency.of(row)
        for row in db.active_emergencies(session, codes=codes, bbox=bbox, mode=mode)
    ]
