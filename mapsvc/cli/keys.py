"""Commands for API keys: create (shown once), list, revoke."""

from __future__ import annotations

import argparse

from importers.codes import to_code6
from mapsvc.cli.common import CLI_ACTOR, session_scope
from mapsvc.services.keys import auth_secret, create_key, list_keys, revoke_key
from mapsvc.settings import Settings


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    """Create an API key with a role for a municipality (admin: the prefecture); shown once."""
    with session_scope(settings) as session:
        key, info = create_key(
            session,
            auth_secret(settings),
            municipality_code=to_code6(args.municipality),
            role=args.role,
            label=args.label or "",
            actor=CLI_ACTOR,
        )
    print(key)
    print(
        f"# {info.prefix}: {args.role} of {to_code6(args.municipality)}. "
        "この鍵は二度と表示されません / this key is not shown again."
    )
    return 0


def cmd_keys_list(settings: Settings, _: argparse.Namespace) -> int:
    """List keys by prefix, with municipality, role and state."""
    with session_scope(settings) as session:
        for key in list_keys(session):
            state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
            print(f"{key.prefix}\t{key.municipality_code}\t{key.role}\t{state}\t{key.label}")
    return 0


def cmd_keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Revoke a key by its prefix."""
    with session_scope(settings) as session:
        revoke_key(session, args.prefix, CLI_ACTOR)
    print(f"失効しました / revoked: {args.prefix}")
    return 0
