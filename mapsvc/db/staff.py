"""SQL of the staff portal: accounts, roles, one-time links, sessions, sign-in attempts, audit."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mapsvc.db.models import (
    AuditRow,
    LoginAttemptRow,
    StaffRoleRow,
    StaffSessionRow,
    StaffTokenRow,
    StaffUserRow,
    VersionRow,
)


def user_by_login(session: Session, login: str) -> StaffUserRow | None:
    """The account with this (lower-cased) login."""
    return session.scalars(select(StaffUserRow).where(StaffUserRow.login == login)).first()


def get_user(session: Session, user_id: int) -> StaffUserRow | None:
    """The account with this id."""
    return session.get(StaffUserRow, user_id)


def list_users(session: Session) -> Sequence[StaffUserRow]:
    """Every account, by login."""
    return session.scalars(select(StaffUserRow).order_by(StaffUserRow.login)).all()


def roles_of(session: Session, user_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Each account's roles: ``{user_id: {municipality_code: role}}``."""
    rows = session.scalars(select(StaffRoleRow).where(StaffRoleRow.user_id.in_(user_ids))).all()
    found: dict[int, dict[str, str]] = {i: {} for i in user_ids}
    for row in rows:
        found[row.user_id][row.municipality_code] = row.role
    return found


def replace_roles(session: Session, user_id: int, roles: Mapping[str, str]) -> None:
    """Set the account's roles to exactly ``roles``."""
    session.execute(delete(StaffRoleRow).where(StaffRoleRow.user_id == user_id))
    for code, role in roles.items():
        session.add(StaffRoleRow(user_id=user_id, municipality_code=code, role=role))
    session.flush()


def set_password_hash(session: Session, user_id: int, password_hash: str) -> None:
    """Store a new password hash."""
    session.execute(
        update(StaffUserRow).where(StaffUserRow.id == user_id).values(password_hash=password_hash)
    )


def set_disabled(session: Session, user_id: int, disabled: bool) -> None:
    """Disable the account (now) or enable it again."""
    session.execute(
        update(StaffUserRow)
        .where(StaffUserRow.id == user_id)
        .values(disabled_at=func.now() if disabled else None)
    )


def enabled_admins_for_update(session: Session) -> list[int]:
    """The ids of the enabled administrators, locked.

    Two admins disabling each other at once wait for each other, so one of them stays.
    """
    return list(
        session.scalars(
            select(StaffUserRow.id)
            .join(StaffRoleRow, StaffRoleRow.user_id == StaffUserRow.id)
            .where(StaffRoleRow.role == "admin", StaffUserRow.disabled_at.is_(None))
            .order_by(StaffUserRow.id)
            .with_for_update(of=StaffUserRow)
        ).all()
    )


def token_for_update(session: Session, digest: str) -> StaffTokenRow | None:
    """A one-time link by its digest, locked so that it is used once even when clicked twice."""
    return session.scalars(
        select(StaffTokenRow).where(StaffTokenRow.digest == digest).with_for_update()
    ).first()


def retire_tokens(session: Session, user_id: int) -> None:
    """Mark every unused link of the account used (a new one replaces them)."""
    session.execute(
        update(StaffTokenRow)
        .where(StaffTokenRow.user_id == user_id, StaffTokenRow.used_at.is_(None))
        .values(used_at=func.now())
    )


def session_with_user(session: Session, digest: str) -> tuple[StaffSessionRow, StaffUserRow] | None:
    """A live (not ended) session and its account."""
    row = session.execute(
        select(StaffSessionRow, StaffUserRow)
        .join(StaffUserRow, StaffUserRow.id == StaffSessionRow.user_id)
        .where(StaffSessionRow.digest == digest, StaffSessionRow.ended_at.is_(None))
    ).first()
    return None if row is None else (row[0], row[1])


def touch_session(session: Session, digest: str) -> None:
    """Record activity (the idle timeout counts from here)."""
    session.execute(
        update(StaffSessionRow)
        .where(StaffSessionRow.digest == digest)
        .values(last_seen_at=func.now())
    )


def end_sessions(session: Session, *, digest: str | None = None, user_id: int | None = None) -> int:
    """End one session, or every live session of an account; how many were ended."""
    statement = update(StaffSessionRow).where(StaffSessionRow.ended_at.is_(None))
    if digest is not None:
        statement = statement.where(StaffSessionRow.digest == digest)
    if user_id is not None:
        statement = statement.where(StaffSessionRow.user_id == user_id)
    result = session.execute(statement.values(ended_at=func.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]


def note_attempt(session: Session, login: str, address: str) -> int:
    """Record a sign-in attempt as failed until it proves otherwise; its id."""
    row = LoginAttemptRow(login=login, address=address, ok=False)
    session.add(row)
    session.flush()
    return row.id


def attempt_succeeded(session: Session, attempt_id: int) -> None:
    """The attempt proved its password: it no longer counts as a failure."""
    session.execute(update(LoginAttemptRow).where(LoginAttemptRow.id == attempt_id).values(ok=True))


@dataclass(frozen=True)
class Failures:
    """Failed (or still unproven) sign-ins in a window, counted three ways."""

    account_address: int
    address: int
    account: int


def failures_since(session: Session, since: datetime, *, login: str, address: str) -> Failures:
    """Failed sign-ins since ``since``, counted three ways in one statement.

    For the account from the address, from the address, and for the account from everywhere.
    """
    failed = LoginAttemptRow.ok.is_(False)
    mine = LoginAttemptRow.login == login
    here = LoginAttemptRow.address == address
    row = session.execute(
        select(
            func.count().filter(mine, here),
            func.count().filter(here),
            func.count().filter(mine),
        ).where(LoginAttemptRow.at >= since, failed, mine | here)
    ).one()
    return Failures(int(row[0]), int(row[1]), int(row[2]))


def now(session: Session) -> datetime:
    """The database's clock (one clock for every timeout)."""
    return session.execute(select(func.now())).scalar_one()


AUDIT_FILTERS = ("actor", "action", "municipality_code", "layer_id")


def audit_page(
    session: Session, filters: Mapping[str, Any], *, limit: int, offset: int
) -> Sequence[AuditRow]:
    """Audit entries matching ``filters`` (exact values; ``since``/``until`` bound ``at``)."""
    statement = select(AuditRow)
    for name in AUDIT_FILTERS:
        if filters.get(name):
            statement = statement.where(getattr(AuditRow, name) == filters[name])
    if filters.get("since"):
        statement = statement.where(AuditRow.at >= filters["since"])
    if filters.get("until"):
        statement = statement.where(AuditRow.at < filters["until"])
    statement = statement.order_by(AuditRow.id.desc()).limit(limit).offset(offset)
    return session.scalars(statement).all()


def version_numbers(session: Session, version_ids: Collection[int]) -> dict[int, int]:
    """{version id: its number within its dataset} for the given ids."""
    if not version_ids:
        return {}
    rows = session.execute(
        select(VersionRow.id, VersionRow.number).where(VersionRow.id.in_(version_ids))
    )
    return {row.id: row.number for row in rows}
