"""Signing in to the staff portal: throttled, audited, server-side sessions with CSRF tokens.

A session is made only by a successful sign-in (a new random id each time: no fixation), kept
in PostgreSQL as the SHA-256 of its cookie, and ends after ``idle_timeout_min`` without use,
after ``absolute_timeout_h`` in any case, at sign-out, and when the account is disabled or
its password changes.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from mapsvc.db import staff, writes
from mapsvc.db.models import StaffSessionRow
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


def slowdown_s(settings: Settings, account_failures: int) -> float:
    """How long an attempt on an account waits, given the account's failures from everywhere.

    Nothing up to ``failures_per_account``; then a quarter second, doubling with each failure,
    at most ``max_slowdown_s``: guessing gets slow, the owner still gets in.

    Examples
    --------
    >>> from mapsvc.settings import Settings
    >>> [slowdown_s(Settings(), n) for n in (0, 5, 6, 7, 9, 40)]
    [0.0, 0.0, 0.25, 0.5, 2.0, 5.0]
    """
    excess = account_failures - settings.staff.failures_per_account
    if excess <= 0:
        return 0.0
    return float(min(settings.staff.max_slowdown_s, 0.25 * 2 ** min(excess - 1, 16)))


@dataclass(frozen=True)
class _Attempt:
    """An attempt counted before its password is checked."""

    id: int
    stored_hash: str | None  # of a usable account; None for an unknown or disabled one
    wait_s: float


def _count_attempt(session: Session, settings: Settings, login: str, address: str) -> _Attempt:
    """Record the attempt as a failure, then count: atomic without a lock.

    Each attempt is committed before it counts, so of attempts made at once the n-th to commit
    sees at least n: no burst gets more tries than the limit, whatever their order.
    """
    config = settings.staff
    with unit_of_work(session):
        attempt_id = staff.note_attempt(session, login, address)
    with unit_of_work(session):
        since = staff.now(session) - timedelta(minutes=config.failure_window_min)
        failures = staff.failures_since(session, since, login=login, address=address)
        user = staff.user_by_login(session, login)
        usable = user is not None and user.disabled_at is None
        stored_hash = user.password_hash if usable and user is not None else None
    if (
        failures.account_address > config.failures_per_account_address
        or failures.address > config.failures_per_address
    ):
        raise TooManyRequests(config.failure_window_min * 60)
    return _Attempt(attempt_id, stored_hash, slowdown_s(settings, failures.account - 1))


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

    The sessions of the cookies in ``ending`` (this browser's earlier ones) end with it. The
    password is checked outside any transaction (no connection waits for Argon2).

    Raises
    ------
    TooManyRequests
        After too many failures for the account from this address, or from this address,
        within the window (the account's failures from elsewhere only slow it down).
    Unauthorized
        For a wrong login or password, or a disabled account (the same message for each).
    """
    login = normalise_login(login)
    attempt = _count_attempt(session, settings, login, address)
    time.sleep(attempt.wait_s)
    ok = verify_password(settings, attempt.stored_hash, password)
    with unit_of_work(session):  # a failure is committed too: it counts though the request fails
        user = staff.user_by_login(session, login)
        # The account as it was checked: not disabled nor given a new password meanwhile.
        ok = (
            ok
            and user is not None
            and user.disabled_at is None
            and user.password_hash == attempt.stored_hash
        )
        _audit_attempt(session, login, address, ok)
        if ok and user is not None:
            staff.attempt_succeeded(session, attempt.id)
            rehash_if_needed(session, settings, user, password)
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


def _audit_attempt(session: Session, login: str, address: str, ok: bool) -> None:
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
