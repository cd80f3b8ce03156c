"""What every command needs: a database session, the catalog, printing a report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from layers import LayerDefinition, load_catalog
from mapsvc.db.engine import database_url, make_engine, make_sessionmaker
from mapsvc.settings import Settings

CLI_ACTOR = "cli"


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session on the configured database, its engine disposed of afterwards."""
    engine = make_engine(database_url(settings.database), settings.database)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def layer_of(layer_id: str) -> LayerDefinition:
    """The catalog entry (the catalog's LayerNotFound when there is none)."""
    return load_catalog()[layer_id]


def print_report(report: dict[str, Any], filename: str) -> None:
    """The import report, readable by a person, in Japanese and English."""
    rows, accepted = report.get("rows", 0), report.get("accepted", 0)
    print(f"ファイル / file: {filename} ({report.get('format') or '?'})")
    print(
        f"読み込み行数 / rows read: {rows:,}   登録 / accepted: {accepted:,}   "
        f"除外 / rejected: {report.get('rejected', rows - accepted):,}"
    )
    for title, issues in (
        ("エラー / errors", report.get("errors", [])),
        ("警告 / warnings", report.get("warnings", [])),
    ):
        if not issues:
            continue
        print(f"{title}: {len(issues):,}")
        for issue in issues[:50]:
            where = ", ".join(
                f"{label} {issue[key]}"
                for key, label in (
                    ("row", "行 row"),
                    ("column", "列 column"),
                    ("value", "値 value"),
                )
                if issue.get(key) is not None
            )
            print(f"  - {where + ': ' if where else ''}{issue['message_ja']}")
            print(f"    {issue['message_en']}")
        if len(issues) > 50:
            print(f"  … {len(issues) - 50:,} more")


def progress(count: int) -> None:
    """A progress line on a terminal, for large files."""
    if sys.stderr.isatty():
        print(f"\r  {count:,} 行 rows…", end="", file=sys.stderr, flush=True)
