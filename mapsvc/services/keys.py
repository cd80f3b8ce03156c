"""API keys: created once and shown once, stored as an HMAC, checked in constant time.

``create_key`` and ``revoke_key`` own their transaction; the portal and the CLI call them alike.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from mapsvc.db import queries, writes
from mapsvc.db.models import ApiKeyRow
from mapsvc.embedded import state_dir_of
from mapsvc.errors import ConfigurationError, Forbidden, InvalidParameter, NotFound, Unauthorized
from mapsvc.services.roles import allows, check_role
from mapsvc.services.transactions import unit_of_work
from mapsvc.settings import Settings

KEY_PREFIX = "msk"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    key_prefix: str
    municipality_code: str
    role: str

    @property
    def actor(self) -> str:
        """How the audit log names this key."""
        return f"key:{self.key_prefix}"

    def may(self, action: str, municipality_code: str) -> bool:
        """Whether the key's role gives ``action`` there (an admin's: everywhere; else its own)."""
        own = self.role == "admin" or self.municipality_code == municipality_code
        return own and allows(self.role, action)


@dataclass(frozen=True)
class KeyInfo:
    """A key as the portal and the CLI list it: its visible prefix, never the key."""

    prefix: str
    municipality_code: str
    role: str
    label: str
    revoked_at: datetime | None


def _info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(row.prefix, row.municipality_code, row.role, row.label, row.revoked_at)


def auth_secret(settings: Settings) -> bytes:
    """The HMAC secret: configured, or generated once beside the embedded cluster."""
    if settings.auth.secret is not None:
        return settings.auth.secret.get_secret_value().encode()
    if settings.database.url is not None:
        raise ConfigurationError(
            "APIキーを使うには MAPSVC_AUTH__SECRET を設定してください",
            "Set MAPSVC_AUTH__SECRET to use API keys with an external database",
        )
    path: Path = state_dir_of(settings.database) / "auth-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def _digest(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def create_key(
    session: Session, secret: bytes, *, municipality_code: str, role: str, label: str, actor: str
) -> tuple[str, KeyInfo]:
    """Create a key; return the full key (shown once, never stored) and what is listed of it."""
    with unit_of_work(session):
        _check_owner(session, municipality_code, role)
        prefix = f"{KEY_PREFIX}_{secrets.token_hex(4)}"
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiKeyRow(
            prefix=prefix,
            digest=_digest(secret, key),
            municipality_code=municipality_code,
            role=role,
            label=label,
            created_by=actor,
        )
        writes.insert_row(session, row)
        writes.insert_audit(
            session,
            actor=actor,
            action="key_create",
            result="ok",
            municipality_code=municipality_code,
            detail={"prefix": prefix, "role": role, "label": label},
        )
        return key, _info(row)


def _check_owner(session: Session, municipality_code: str, role: str) -> None:
    check_role(role)
    municipality = queries.get_municipality(session, municipality_code)
    if municipality is None:
        raise NotFound("その市区町村はありません", f"No municipality {municipality_code}")
    if municipality.kind == "ward":
        raise InvalidParameter(
            "区ではなく市のキーを作ってください",
            f"Keys belong to municipalities, not wards: use {municipality.parent_code}",
        )
    if role == "admin" and municipality.kind != "prefecture":
        raise InvalidParameter(
            "admin のキーは都道府県にだけ作れます", "Admin keys belong to the prefecture"
        )


def revoke_key(session: Session, prefix: str, actor: str) -> None:
    """Revoke a key by its visible prefix."""
    with unit_of_work(session):
        municipality_code = writes.revoke_key(session, prefix)
        if municipality_code is None:
            raise NotFound("そのキーはないか、失効済みです", f"No active key {prefix}")
        writes.insert_audit(
            session,
            actor=actor,
            action="key_revoke",
            result="ok",
            municipality_code=municipality_code,
            detail={"prefix": prefix},
        )


def list_keys(session: Session) -> list[KeyInfo]:
    """Every key, newest first (prefixes only: the keys themselves are not stored)."""
    return [_info(row) for row in queries.list_keys(session)]


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request presents: ``Authorization: Bearer msk_…`` or ``X-API-Key``."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return x_api_key


def authenticate(session: Session, secret: bytes, key: str | None) -> Principal:
    """The principal a presented key stands for.

    Raises
    ------
    Unauthorized
        If the key is missing, malformed, unknown, revoked or wrong.
    """
    unauthorized = Unauthorized(
        "APIキーが必要です（Authorization: Bearer msk_…）",
        "An API key is required (Authorization: Bearer msk_…)",
    )
    if not key or key.count("_") < 2:
        raise unauthorized
    prefix = "_".join(key.split("_", 2)[:2])
    row = queries.get_key(session, prefix)
    expected = row.digest if row is not None else "0" * 64
    valid = hmac.compare_digest(expected, _digest(secret, key))  # constant time either way
    if row is None or not valid or row.revoked_at is not None:
        raise unauthorized
    return Principal(row.prefix, row.municipality_code, row.role)


def authorize(principal: Principal, action: str, municipality_code: str) -> None:
    """Refuse what the key's role does not allow for the municipality (403, with the reason)."""
    if not principal.may(action, municipality_code):
        raise Forbidden(
            f"このキー（役割 {principal.role}）では市区町村 {municipality_code} でこの操作はできません",
            f"A key with role {principal.role} may not do this for municipality "
            f"{municipality_code}",
        )
