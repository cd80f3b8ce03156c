"""Staff accounts: created by an admin, roles per municipality, passwords set by one-time links.

No mail server is assumed: a new account's invitation link (and a reset link) is shown to the
admin who made it, to hand over, and mailed too when a server is configured; only its SHA-256 is
stored. Passwords are Argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended
profile).

The use cases (``invite``, ``reset``, ``set_roles``, ``set_disabled``, ``choose_password``,
``link_account``) each own their transaction; the portal and the CLI call them alike.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from mapsvc.db import queries, staff, writes
from mapsvc.db.models import StaffTokenRow, StaffUserRow
from mapsvc.errors import Conflict, InvalidParameter, NotFound
from mapsvc.services import mail
from mapsvc.services.passwords import weakness
from mapsvc.services.roles import check_role
from mapsvc.services.slots import Slots
from mapsvc.services.transactions import unit_of_work
from mapsvc.settings import Settings

HASHER = PasswordHasher()
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,99}$")
# A valid hash to verify against when the login is unknown, so that both cases take as long.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


def digest(token: str) -> str:
    """How a random token (link or session cookie) is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_login(login: str) -> str:
    """Logins compare lower-cased and trimmed (people type their e-mail as they like)."""
    return login.strip().lower()


_hash_slots: dict[tuple[int, float], Slots] = {}


def hashing(settings: Settings) -> Slots:
    """The process's bound on Argon2 (one per setting, so that tests may set their own)."""
    key = (settings.staff.concurrent_hashes, settings.staff.hash_wait_s)
    return _hash_slots.setdefault(key, Slots(*key))


def _yield_to_readers() -> None:
    """Run this thread at the lowest CPU priority (Linux: nice is per thread).

    A sign-in flood keeps Argon2 busy; at nice 19 the kernel gives the public reads of the same
    process the cores first, so residents do not wait behind hashes nobody will sign in with.
    """
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


# Argon2 runs here, never in a request's thread; ``hashing`` bounds how many run at once.
_ARGON2 = ThreadPoolExecutor(thread_name_prefix="argon2", initializer=_yield_to_readers)


def verify_password(settings: Settings, stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches the stored hash; as slow without one (an unknown account).

    Call it outside any transaction: Argon2 takes tens of milliseconds and as much memory,
    which a pooled connection should not wait through.
    """
    stored = stored_hash or _DUMMY_HASH
    try:
        with hashing(settings).held():
            verified = _ARGON2.submit(HASHER.verify, stored, password).result()
        return verified and stored is not _DUMMY_HASH
    except (VerificationError, InvalidHashError):
        return False


def hash_password(settings: Settings, password: str) -> str:
    """A new Argon2id hash, within this process's bound on hashing."""
    with hashing(settings).held():
        return _ARGON2.submit(HASHER.hash, password).result()


@dataclass(frozen=True)
class Account:
    """An account as the portal and the CLI list it."""

    id: int
    login: str
    display_name: str
    roles: Mapping[str, str]
    state: str  # ``active``, ``invited`` (no password yet) or ``disabled``


def _account(user: StaffUserRow, roles: Mapping[str, str]) -> Account:
    state = "disabled" if user.disabled_at is not None else None
    state = state or ("active" if user.password_hash else "invited")
    return Account(user.id, user.login, user.display_name, dict(roles), state)


@dataclass(frozen=True)
class OneTimeLink:
    """A link to choose a password, to hand over once (and what became of its mail)."""

    login: str
    display_name: str
    link: str
    mail: mail.MailOutcome


LinkFor = Callable[[str], str]  # the address of the password page of a token


def links_under(base_url: str) -> LinkFor:
    """One-time links under the service's public address: never the Host a request claims."""
    return lambda token: f"{base_url.rstrip('/')}/staff/setup/{token}"


def _check_roles(session: Session, roles: Mapping[str, str]) -> None:
    for code, role in roles.items():
        check_role(role)
        municipality = queries.get_municipality(session, code)
        if municipality is None or municipality.kind == "ward":
            raise InvalidParameter(
                f"市区町村コード {code} の団体はありません（区ではなく市を選んでください）",
                f"No municipality {code} (choose the city, not a ward)",
            )
        if (role == "admin") != (municipality.kind == "prefecture"):
            raise InvalidParameter(
                "admin は都道府県にだけ、それ以外の役割は市町村にだけ付けられます",
                "admin belongs to the prefecture; the other roles to municipalities",
            )


def _new_link(session: Session, settings: Settings, user_id: int, purpose: str, actor: str) -> str:
    staff.retire_tokens(session, user_id)
    token = secrets.token_urlsafe(32)
    expires = staff.now(session) + timedelta(hours=settings.staff.link_valid_h)
    writes.insert_row(
        session,
        StaffTokenRow(
            digest=digest(token),
            user_id=user_id,
            purpose=purpose,
            created_by=actor,
            expires_at=expires,
        ),
    )
    return token


def invite(
    session: Session,
    settings: Settings,
    *,
    login: str,
    display_name: str,
    roles: Mapping[str, str],
    actor: str,
    link_for: LinkFor,
) -> OneTimeLink:
    """A new account with its roles, and its invitation link (shown once, mailed if possible)."""
    with unit_of_work(session):
        login = normalise_login(login)
        if not LOGIN.match(login):
            raise InvalidParameter(
                "ログインIDは2〜100文字の英数字と . _ @ + - です（メールアドレスも使えます）",
                "A login is 2-100 letters, digits and . _ @ + - (an e-mail address works)",
            )
        if not roles:
            raise InvalidParameter(
                "役割を一つ以上付けてください", "Give the account at least one role"
            )
        _check_roles(session, roles)
        if staff.user_by_login(session, login) is not None:
            raise Conflict(
                f"ログインID {login} はもう使われています", f"The login {login} is already taken"
            )
        user = StaffUserRow(
            login=login, display_name=display_name.strip() or login, created_by=actor
        )
        writes.insert_row(session, user)
        staff.replace_roles(session, user.id, roles)
        token = _new_link(session, settings, user.id, "invite", actor)
        writes.insert_audit(
            session,
            actor=actor,
            action="user_create",
            result="ok",
            detail={"login": login, "roles": dict(roles)},
        )
        account = _account(user, roles)
    return _hand_over(settings, account, link_for(token))


def _hand_over(settings: Settings, account: Account, link: str) -> OneTimeLink:
    # After the commit: the link works by the time the mail arrives.
    outcome = mail.send_link(settings, to=account.login, name=account.display_name, link=link)
    return OneTimeLink(account.login, account.display_name, link, outcome)


AccountRef = int | str  # an account's id (the portal's forms) or its login (the CLI)


def _user(session: Session, which: AccountRef) -> StaffUserRow:
    """The account with this id or login (404 if none)."""
    if isinstance(which, int):
        user = staff.get_user(session, which)
    else:
        user = staff.user_by_login(session, normalise_login(which))
    if user is None:
        raise NotFound(f"アカウント {which} はありません", f"No account {which}")
    return user


def find_account(session: Session, which: AccountRef) -> Account:
    """The account with this id or login (404 if none)."""
    user = _user(session, which)
    return _account(user, staff.roles_of(session, [user.id])[user.id])


def _keep_an_admin(session: Session, user: StaffUserRow) -> None:
    """Refuse to take the last enabled administrator away: nobody could manage accounts then."""
    if staff.enabled_admins_for_update(session) == [user.id]:
        raise Conflict(
            f"{user.login} は最後の管理者です。先に別の管理者を作ってください",
            f"{user.login} is the last administrator: make another one first",
        )


def set_roles(session: Session, which: AccountRef, roles: Mapping[str, str], actor: str) -> None:
    """Replace the account's roles (audited with the old and new); the last admin stays one."""
    with unit_of_work(session):
        user = _user(session, which)
        _check_roles(session, roles)
        if "admin" not in roles.values():
            _keep_an_admin(session, user)
        old = staff.roles_of(session, [user.id])[user.id]
        staff.replace_roles(session, user.id, roles)
        writes.insert_audit(
            session,
            actor=actor,
            action="role_change",
            result="ok",
            detail={"login": user.login, "old": old, "new": dict(roles)},
        )


def set_disabled(session: Session, which: AccountRef, disabled: bool, actor: str) -> None:
    """Disable an account (its sessions end at once; never the last admin) or enable it again."""
    with unit_of_work(session):
        user = _user(session, which)
        if disabled:
            _keep_an_admin(session, user)
        staff.set_disabled(session, user.id, disabled)
        if disabled:
            staff.end_sessions(session, user_id=user.id)
        writes.insert_audit(
            session,
            actor=actor,
            action="user_disable" if disabled else "user_enable",
            result="ok",
            detail={"login": user.login},
        )


def reset(
    session: Session, settings: Settings, which: AccountRef, *, actor: str, link_for: LinkFor
) -> OneTimeLink:
    """A new one-time link to choose a password (earlier links stop working), mailed if possible.

    Refused for a disabled account (its link could not be used): enable it first.
    """
    with unit_of_work(session):
        user = _user(session, which)
        if user.disabled_at is not None:
            raise Conflict(
                f"{user.login} は停止中です。リンクを作る前に再開してください",
                f"{user.login} is disabled: enable it before making a link",
            )
        token = _new_link(session, settings, user.id, "reset", actor)
        writes.insert_audit(
            session,
            actor=actor,
            action="password_reset_link",
            result="ok",
            detail={"login": user.login},
        )
        account = _account(user, {})
    return _hand_over(settings, account, link_for(token))


def _usable_link(session: Session, token: str) -> tuple[StaffTokenRow, StaffUserRow]:
    row = staff.token_for_update(session, digest(token))
    user = staff.get_user(session, row.user_id) if row is not None else None
    if (
        row is None
        or user is None
        or row.used_at is not None
        or row.expires_at <= staff.now(session)
        or user.disabled_at is not None
    ):
        raise NotFound(
            "このリンクは使えません（使用済みか期限切れです）。管理者に新しいリンクを頼んでください",
            "This link cannot be used (already used or expired): ask your administrator for a new one",
        )
    return row, user


def link_account(session: Session, token: str) -> Account:
    """The account a one-time link is for, if the link can still be used (404 if not)."""
    with unit_of_work(session):  # ends at once: the link's row lock is released
        user = _usable_link(session, token)[1]
        return _account(user, {})


def check_password(settings: Settings, password: str, user: StaffUserRow) -> None:
    """Refuse a password that is too short, the login, a run, or a common one (NIST SP 800-63B)."""
    problem = weakness(password, login=user.login, minimum=settings.staff.min_password_length)
    if problem is not None:
        raise InvalidParameter(*problem)


def choose_password(session: Session, settings: Settings, token: str, password: str) -> None:
    """Set the password through a one-time link; the link is spent and old sessions end."""
    with unit_of_work(session):
        _, user = _usable_link(session, token)
        check_password(settings, password, user)
    # Argon2 outside any transaction, as at sign-in: a hash never holds a pooled connection.
    hashed = hash_password(settings, password)
    with unit_of_work(session):
        row, user = _usable_link(session, token)  # a link spent meanwhile is refused here
        staff.set_password_hash(session, user.id, hashed)
        staff.retire_tokens(session, user.id)
        staff.end_sessions(session, user_id=user.id)
        writes.insert_audit(
            session,
            actor=f"staff:{user.login}",
            action="password_set",
            result="ok",
            detail={"login": user.login, "through": row.purpose},
        )


def rehash_if_needed(
    session: Session, settings: Settings, user: StaffUserRow, password: str
) -> None:
    """Upgrade a hash made with older parameters, at a sign-in that proved the password."""
    if user.password_hash and HASHER.check_needs_rehash(user.password_hash):
        staff.set_password_hash(session, user.id, hash_password(settings, password))


def list_accounts(session: Session) -> list[Account]:
    """Every account with its roles."""
    users = list(staff.list_users(session))
    roles = staff.roles_of(session, [u.id for u in users])
    return [_account(u, roles[u.id]) for u in users]
