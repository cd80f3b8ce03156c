"""Commands for staff accounts: create (the first admin too), list, disable, enable, reset."""

from __future__ import annotations

import argparse
import sys

from importers.codes import to_code6
from mapsvc.cli.common import CLI_ACTOR, session_scope
from mapsvc.services import accounts
from mapsvc.settings import Settings


def _link_for(settings: Settings, args: argparse.Namespace) -> accounts.LinkFor:
    return accounts.links_under(args.url or settings.public_base())


def _print_link(settings: Settings, issued: accounts.OneTimeLink) -> None:
    print(issued.link)
    print(
        f"# 本人に渡してください（{settings.staff.link_valid_h}時間有効・一回限り）"
        f" / hand this link over (valid {settings.staff.link_valid_h} h, once)"
    )
    if issued.mail == "sent":
        print(f"# {issued.login} にメールでも送りました / also mailed to {issued.login}")
    elif issued.mail == "failed":
        print(
            f"# {issued.login} へのメールは送れませんでした（メールサーバーにつながりません）"
            f" / the mail to {issued.login} could not be sent (the mail server did not answer)",
            file=sys.stderr,
        )


def cmd_users_create(settings: Settings, args: argparse.Namespace) -> int:
    """Create an account with one role; print its invitation link (shown once)."""
    with session_scope(settings) as session:
        issued = accounts.invite(
            session,
            settings,
            login=args.login,
            display_name=args.name or args.login,
            roles={to_code6(args.municipality): args.role},
            actor=CLI_ACTOR,
            link_for=_link_for(settings, args),
        )
    _print_link(settings, issued)
    return 0


def cmd_users_list(settings: Settings, _: argparse.Namespace) -> int:
    """Every account: login, state, roles, name."""
    with session_scope(settings) as session:
        for account in accounts.list_accounts(session):
            roles = ",".join(f"{code}:{role}" for code, role in account.roles.items())
            print(f"{account.login}\t{account.state}\t{roles}\t{account.display_name}")
    return 0


def cmd_users_disable(settings: Settings, args: argparse.Namespace) -> int:
    """Disable an account (its sessions end at once)."""
    with session_scope(settings) as session:
        accounts.set_disabled(session, args.login, True, CLI_ACTOR)
    print(f"停止しました / disabled: {args.login}")
    return 0


def cmd_users_enable(settings: Settings, args: argparse.Namespace) -> int:
    """Enable a disabled account again (its old password works; `users reset` for a new one)."""
    with session_scope(settings) as session:
        accounts.set_disabled(session, args.login, False, CLI_ACTOR)
    print(f"再開しました / enabled: {args.login}")
    return 0


def cmd_users_reset(settings: Settings, args: argparse.Namespace) -> int:
    """Print a new one-time link to choose a password."""
    with session_scope(settings) as session:
        issued = accounts.reset(
            session, settings, args.login, actor=CLI_ACTOR, link_for=_link_for(settings, args)
        )
    _print_link(settings, issued)
    return 0
