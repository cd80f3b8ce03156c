"""Backups of the whole service and restoring them: PostgreSQL's own pg_dump and pg_restore.

One custom-format archive holds everything: layers, datasets, every version with its features,
the original files (stored in the database), the audit log, API keys and staff accounts. For
point-in-time recovery, archive the WAL as well (README, "Backups").
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from mapsvc.db.engine import create_database, database_url, holds_versions
from mapsvc.embedded import find_pg_bin
from mapsvc.errors import Conflict, MapsvcError
from mapsvc.settings import Settings


class BackupFailed(MapsvcError):
    """pg_dump or pg_restore said no; its message is passed on."""

    code = "backup_failed"
    status = 500


@dataclass(frozen=True)
class Target:
    """Where libpq connects, with the password kept out of the command line."""

    host: str
    port: int
    user: str
    database: str
    password: str

    @classmethod
    def of(cls, settings: Settings) -> Target:
        """The service's database, embedded or configured."""
        url = make_url(database_url(settings.database))
        return cls(
            url.host or "127.0.0.1",
            url.port or 5432,
            url.username or "",
            url.database or settings.database.name,
            url.password or "",
        )

    def args(self) -> list[str]:
        """Connection options for the PostgreSQL client programs (libpq)."""
        return [
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--username",
            self.user,
            "--dbname",
            self.database,
            "--no-password",
        ]

    def env(self) -> dict[str, str]:
        """The environment for them: the password as PGPASSWORD (never in ``ps``)."""
        return {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"}


def _run(program: str, args: list[str], target: Target) -> None:
    result = subprocess.run(  # noqa: S603 - PostgreSQL's own binaries, arguments built here
        [str(find_pg_bin() / program), *args],
        env=target.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=6 * 3600,
    )
    if result.returncode != 0:
        raise BackupFailed(
            f"{program} が失敗しました：{result.stderr.strip()[-2000:]}",
            f"{program} failed: {result.stderr.strip()[-2000:]}",
        )


def backup(settings: Settings, path: Path) -> int:
    """Write the whole service to ``path`` (pg_dump custom format); its size in bytes."""
    target = Target.of(settings)
    _run(
        "pg_dump",
        ["--format=custom", "--no-owner", "--no-acl", "--file", str(path), *target.args()],
        target,
    )
    return path.stat().st_size


def restore(settings: Settings, path: Path, *, replace: bool = False) -> None:
    """Restore a backup into the service's database (created if missing).

    A database that already holds versions is refused unless ``replace``: a restore must never
    be the thing that loses published data.
    """
    if not path.is_file():
        raise BackupFailed(f"バックアップ {path} がありません", f"No backup file {path}")
    target = Target.of(settings)
    url = database_url(settings.database)
    create_database(url, target.database)
    if holds_versions(url, settings.database) and not replace:
        raise Conflict(
            "復元先のデータベースにはデータがあります。置き換えるなら --replace を付けてください",
            "The database to restore into holds data: add --replace to overwrite it",
        )
    clean = ["--clean", "--if-exists"] if replace else []
    _run(
        "pg_restore",
        [
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            *clean,
            *target.args(),
            str(path),
        ],
        target,
    )
