"""The ``mapsvc`` command line: every command documented by ``mapsvc --help``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeAlias

from mapsvc.cli import data, database, keys, sources, users
from mapsvc.db.errors import translate_database_errors
from mapsvc.embedded import EmbeddedDatabaseError
from mapsvc.errors import as_domain_error
from mapsvc.services.roles import ROLES
from mapsvc.settings import Settings

ROLE_HELP = (
    "the same for people and keys: viewer reads; status also updates the disaster board; "
    "editor also uploads and asks to publish; publisher also publishes, rolls back and takes "
    "down; admin (the prefecture's) does everything"
)

Handler = Callable[[Settings, argparse.Namespace], int]
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _add(parent: SubParsers, name: str, handler: Handler) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = parent.add_parser(
        name, help=handler.__doc__, description=handler.__doc__
    )
    command.set_defaults(handler=handler)
    return command


def _group(parent: SubParsers, name: str, help_text: str) -> SubParsers:
    group = parent.add_parser(name, help=help_text, description=help_text)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


def _dataset_args(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
    command.add_argument("--layer", required=True, help="catalog layer id")
    command.add_argument("--municipality", required=True, help="6-digit local government code")
    return command


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog="mapsvc",
        description="Wide-area digital map service. Settings come from MAPSVC_* environment "
        "variables; with no MAPSVC_DATABASE__URL an embedded PostGIS cluster is used.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = _add(sub, "serve", database.cmd_serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, help="worker processes (default MAPSVC_WORKERS, else one per core)"
    )
    db = _group(sub, "db", "the database: start, stop, status, upgrade")
    for name, handler in (
        ("start", database.cmd_db_start),
        ("stop", database.cmd_db_stop),
        ("status", database.cmd_db_status),
        ("upgrade", database.cmd_db_upgrade),
    ):
        _add(db, name, handler)
    _add(_group(sub, "demo", "the bundled demo data set"), "load", database.cmd_demo_load)
    _add(
        _group(sub, "municipalities", "the prefecture's municipalities"),
        "list",
        database.cmd_municipalities_list,
    )
    _add(_group(sub, "layers", "the layer catalog"), "list", database.cmd_layers_list)

    imp = _add(sub, "import", data.cmd_import)
    data.add_file_options(imp)
    imp.add_argument(
        "--municipality", help="6-digit code of the owning municipality (optional with --dry-run)"
    )
    imp.add_argument("--publish", action="store_true", help="publish the new version at once")
    imp.add_argument(
        "--dry-run", action="store_true", help="parse, map and validate; write nothing"
    )
    imp.add_argument("--json", action="store_true", help="print the report as one JSON object")
    versions = _group(sub, "versions", "a dataset's versions")
    _dataset_args(_add(versions, "list", data.cmd_versions_list)).add_argument(
        "--limit", type=int, default=100, help="newest N versions (default 100)"
    )
    show = _dataset_args(_add(versions, "show", data.cmd_versions_show))
    show.add_argument("id", type=int, help="version id")
    show.add_argument("--json", action="store_true", help="print as JSON")
    publish = _dataset_args(_add(sub, "publish", data.cmd_publish))
    publish.add_argument("id", type=int, help="version id")
    publish.add_argument(
        "--accept-dropped-rows",
        action="store_true",
        help="publish a version whose rows in error are left out",
    )
    _dataset_args(_add(sub, "rollback", data.cmd_rollback)).add_argument(
        "--to", type=int, required=True, help="version id to go back to"
    )
    diff = _dataset_args(_add(sub, "diff", data.cmd_diff))
    diff.add_argument("old", type=int, help="older version id")
    diff.add_argument("new", type=int, help="newer version id")
    diff.add_argument("--json", action="store_true", help="print as JSON")
    preview = _add(sub, "preview", data.cmd_preview)
    data.add_file_options(preview)
    preview.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write")

    key_group = _group(sub, "keys", "API keys for uploads")
    create = _add(key_group, "create", keys.cmd_keys_create)
    create.add_argument(
        "--municipality", required=True, help="6-digit code (the prefecture's for admin)"
    )
    create.add_argument("--role", choices=ROLES, default="editor", help=ROLE_HELP)
    create.add_argument("--label", help="who holds the key, for the list")
    _add(key_group, "list", keys.cmd_keys_list)
    _add(key_group, "revoke", keys.cmd_keys_revoke).add_argument(
        "prefix", help="the key's visible prefix (msk_…)"
    )

    _add(sub, "backup", database.cmd_backup).add_argument(
        "file", type=Path, help="the archive to write (pg_dump custom format)"
    )
    restore = _add(sub, "restore", database.cmd_restore)
    restore.add_argument("file", type=Path, help="an archive made by `mapsvc backup`")
    restore.add_argument(
        "--replace", action="store_true", help="overwrite a database that already holds data"
    )

    source_group = _group(
        sub, "sources", "harvest sources: datasets fetched from where they are published"
    )
    sources.add_source_options(_dataset_args(_add(source_group, "add", sources.cmd_sources_add)))
    _add(source_group, "list", sources.cmd_sources_list).add_argument(
        "--json", action="store_true", help="print as JSON"
    )
    actions: tuple[tuple[str, Handler], ...] = (
        ("run", sources.cmd_sources_run),
        ("pause", sources.cmd_sources_pause),
        ("resume", sources.cmd_sources_resume),
    )
    for action, act in actions:
        _dataset_args(_add(source_group, action, act))
    _add(sub, "harvest", sources.cmd_harvest)

    user_group = _group(sub, "users", "staff portal accounts (one per person)")
    user_create = _add(user_group, "create", users.cmd_users_create)
    user_create.add_argument("login", help="e-mail address or user name")
    user_create.add_argument("--name", help="name and section, as the portal shows it")
    user_create.add_argument(
        "--municipality", required=True, help="6-digit code (the prefecture's for admin)"
    )
    user_create.add_argument("--role", choices=ROLES, default="editor", help=ROLE_HELP)
    _add(user_group, "list", users.cmd_users_list)
    _add(user_group, "disable", users.cmd_users_disable).add_argument("login")
    _add(user_group, "enable", users.cmd_users_enable).add_argument("login")
    user_reset = _add(user_group, "reset", users.cmd_users_reset)
    user_reset.add_argument("login")
    for command in (user_create, user_reset):
        command.add_argument(
            "--url", help="the portal's address in links (default: MAPSVC_PUBLIC_URL)"
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mapsvc`` console script."""
    args = build_parser().parse_args(argv)
    translate_database_errors()
    try:
        code: int = args.handler(Settings(), args)
    except EmbeddedDatabaseError as exc:
        print(f"mapsvc: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        error = as_domain_error(exc)  # the same table the HTTP API answers from
        if error is None:
            raise
        print(f"mapsvc: {error.message_ja}\nmapsvc: {error.message_en}", file=sys.stderr)
        return 1
    return code
