"""SQL of the staff's notices (``staff_notice``): what people of a municipality should act on."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mapsvc.db.models import StaffNoticeRow, StaffRoleRow, StaffUserRow, VersionRow


def open_notices(session: Session, codes: Sequence[str] | None) -> Sequence[StaffNoticeRow]:
    """Notices not yet done, oldest first, for these municipalities (None: every one)."""
    statement = (
        select(StaffNoticeRow)
        .where(StaffNoticeRow.done_at.is_(None))
        .order_by(StaffNoticeRow.at, StaffNoticeRow.id)
    )
    if codes is not None:
        statement = statement.where(StaffNoticeRow.municipality_code.in_(codes))
    return session.scalars(statement).all()


def open_request(session: Session, version_id: int) -> StaffNoticeRow | None:
    """The open request to publish this version, if one was made."""
    return session.scalars(
        select(StaffNoticeRow).where(
            StaffNoticeRow.kind == "publish_request",
            StaffNoticeRow.version_id == version_id,
            StaffNoticeRow.done_at.is_(None),
        )
    ).first()


def close(session: Session, kinds: Sequence[str], layer_id: str, code: str, *, by: str) -> None:
    """The dataset's open notices of these kinds are done."""
    session.execute(
        update(StaffNoticeRow)
        .where(
            StaffNoticeRow.kind.in_(kinds),
            StaffNoticeRow.layer_id == layer_id,
            StaffNoticeRow.municipality_code == code,
            StaffNoticeRow.done_at.is_(None),
        )
        .values(done_at=func.now(), done_by=by)
    )


def publishers_of(session: Session, code: str) -> Sequence[StaffUserRow]:
    """The enabled accounts that publish for this municipality."""
    return session.scalars(
        select(StaffUserRow)
        .join(StaffRoleRow, StaffRoleRow.user_id == StaffUserRow.id)
        .where(
            StaffRoleRow.municipality_code == code,
            StaffRoleRow.role == "publisher",
            StaffUserRow.disabled_at.is_(None),
        )
        .order_by(StaffUserRow.login)
    ).all()


def version_numbers(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """Each version's number within its dataset."""
    rows = session.execute(select(VersionRow.id, VersionRow.number).where(VersionRow.id.in_(ids)))
    return {row.id: row.number for row in rows}
