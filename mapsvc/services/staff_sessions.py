"""Signing in to the staff portal: throttled, audited, server-side sessions with CSRF tokens.

A session is made only by a successful sign-in (a new random id each time: no fixation), kept
in PostgreSQL as the SHA-256 of its cookie, and ends after ``idle_timeout_min`` without use,
after ``absolute_timeout_h`` in any case, at sign-out, and when the account is disabled or
its password changes.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from mapsvc.db import staff, writes
from mapsvc.db.models import LoginAttemptRow, StaffSessionRow
from mapsvc.errors import TooManyRequests, Unauthorized
from mapsvc.services.accounts import digest, normalise_login, rehash_if_needed, verify_password
from mapsvc.services.roles import allows
from mapsvc.services.transactions import unit_of_work
from mapsvc.settings import Settings


@dataclass(frozen=True)
class StaffPrincipal:
    """A signed-in person: their roles per municipality and their session's CSRF token."""

    user_id: int
    login: str
    display_name: str
    roles: Mapping[str, str] = field(default_factory=dict)
    csrf: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"staff:{self.login}"

    @property
    def is_admin(self) -> bool:
        """A prefecture administrator (may act for every municipality)."""
        return "admin" in self.roles.values()

    def role_for(self, code: str) -> str | None:
        """The role this person has for a municipality, if any."""
        return "admin" if self.is_admin else self.roles.get(code)

    def may(self, action: str, code: str) -> bool:
        """Whether this person's role there gives the right to ``action`` (``roles.RIGHTS``)."""
        return allows(self.role_for(code), action)

    def csrf_matches(self, presented: str | None) -> bool:
        """Whether a form carries this session's CSRF token (compared in constant time)."""
        return bool(presented) and hmac.compare_digest(self.csrf, presented or "")


def _refuse_if_throttled(session: Session, settings: Settings, login: str, address: str) -> None:
    config = settings.staff
    since = staff.now(session) - timedelta(minutes=config.failure_window_min)
    if (
        staff.failures_since(session, since, login=login) >= config.failures_per_account
        or staff.failures_since(session, since, address=address) >= config.failures_per_address
    ):
        raise TooManyRequests(config.failure_window_min * 60)


def sign_in(
    session: Session,
    settings: Settings,
    *,
    login: str,
    password: str,
    address: str,
    ending: Sequence[str] = (),
) -> tuple[str, StaffPrincipal]:
    """A new session for a correct login and password: its cookie value and its principal.

    The sessions of the cookies in ``ending`` (this browser's earlier ones) end with it.

    Raises
    ------
    TooManyRequests
        After too many failures for the account or from the address within the window.
    Unauthorized
        For a wrong login or password, or a disabled account (the same message for each).
    """
    login = normalise_login(login)
    with unit_of_work(session):  # a failure is committed too: it counts though the request fails
        _refuse_if_throttled(session, settings, login, address)
        user = staff.user_by_login(session, login)
        ok = verify_password(user, password) and user is not None and user.disabled_at is None
        _note_attempt(session, login, address, ok)
        if ok and user is not None:
            rehash_if_needed(session, user, password)
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            writes.insert_row(
                session,
                StaffSessionRow(digest=digest(token), user_id=user.id, csrf=csrf, address=address),
            )
            for old in ending:
                staff.end_sessions(session, digest=digest(old))
            roles = staff.roles_of(session, [user.id])[user.id]
            return token, StaffPrincipal(user.id, user.login, user.display_name, roles, csrf)
    raise Unauthorized("ログインIDかパスワードが違います", "The login or the password is wrong")


def _note_attempt(session: Session, login: str, address: str, ok: bool) -> None:
    writes.insert_row(session, LoginAttemptRow(login=login, address=address, ok=ok))
    writes.insert_audit(
        session,
        actor=f"staff:{login}",
        action="login",
        result="ok" if ok else "failed",
        detail={"address": address},
    )


def principal_for(session: Session, settings: Settings, token: str | None) -> StaffPrincipal | None:
    """The principal of a session cookie, if the session is live (and note its use)."""
    if not token:
        return None
    with unit_of_work(session):
        found = staff.session_with_user(session, digest(token))
        if found is None:
            return None
        row, user = found
        now = staff.now(session)
        idle = timedelta(minutes=settings.staff.idle_timeout_min)
        absolute = timedelta(hours=settings.staff.absolute_timeout_h)
        if (
            user.disabled_at is not None
            or row.last_seen_at + idle < now
            or row.created_at + absolute < now
        ):
            staff.end_sessions(session, digest=row.digest)
            return None
        staff.touch_session(session, row.digest)
        roles = staff.roles_of(session, [user.id])[user.id]
        return StaffPrincipal(user.id, user.login, user.display_name, roles, row.csrf)


def sign_out(session: Session, principal: StaffPrincipal, token: str, *, everywhere: bool) -> None:
    """End this session (or every session of the account), audited."""
    with unit_of_work(session):
        if everywhere:
            staff.end_sessions(session, user_id=principal.user_id)
        else:
            staff.end_sessions(session, digest=digest(token))
        writes.insert_audit(
            session,
            actor=principal.actor,
            action="logout",
            result="ok",
            detail={"everywhere": everywhere},
        )
