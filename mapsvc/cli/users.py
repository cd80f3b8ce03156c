"""Commands for staff accounts: create (the first admin too), list, disable, reset."""

from __future__ import annotations

import argparse

from importers.codes import to_code6
from mapsvc.cli.common import CLI_ACTOR, session_scope
from mapsvc.services import accounts
from mapsvc.services.transactions import unit_of_work
from mapsvc.settings import Settings


def _link(settings: Settings, args: argparse.Namespace, token: str) -> str:
    base = (args.url or f"http://{settings.host}:{settings.port}").rstrip("/")
    return f"{base}/staff/setup/{token}"


def _print_link(settings: Settings, args: argparse.Namespace, token: str) -> None:
    print(_link(settings, args, token))
    print(
        f"# 本人に渡してください（{settings.staff.link_valid_h}時間有効・一回限り）"
        f" / hand this link over (valid {settings.staff.link_valid_h} h, once)"
    )


def cmd_users_create(settings: Settings, args: argparse.Namespace) -> int:
    """Create an account with one role; print its invitation link (shown once)."""
    with session_scope(settings) as session, unit_of_work(session):
        _, token = accounts.create_account(
            session,
            settings,
            login=args.login,
            display_name=args.name or args.login,
            roles={to_code6(args.municipality): args.role},
            actor=CLI_ACTOR,
        )
    _print_link(settings, args, token)
    return 0


def cmd_users_list(settings: Settings, _: argparse.Namespace) -> int:
    """Every account: login, state, roles, name."""
    with session_scope(settings) as session:
        for account in accounts.list_accounts(session):
            roles = ",".join(f"{code}:{role}" for code, role in account.roles.items())
            print(f"{account.user.login}\t{account.state}\t{roles}\t{account.user.display_name}")
    return 0


def cmd_users_disable(settings: Settings, args: argparse.Namespace) -> int:
    """Disable an account (its sessions end at once)."""
    with session_scope(settings) as session, unit_of_work(session):
        user = accounts.find_account(session, args.login)
        accounts.set_disabled(session, user.id, True, CLI_ACTOR)
    print(f"停止しました / disabled: {args.login}")
    return 0


def cmd_users_reset(settings: Settings, args: argparse.Namespace) -> int:
    """Print a new one-time link to choose a password."""
    with session_scope(settings) as session, unit_of_work(session):
        user = accounts.find_account(session, args.login)
        token = accounts.reset_link(session, settings, user.id, CLI_ACTOR)
    _print_link(settings, args, token)
    return 0
