"""``mapsvc sources add|list|run|pause|resume`` and ``mapsvc harvest``: the harvest from a terminal.

The same use cases as ``/api/datasets/{layer}/{code}/source``.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from types import FrameType

from importers.codes import to_code6
from layers import load_catalog
from mapsvc.cli.common import CLI_ACTOR, layer_of, session_scope
from mapsvc.cli.data import add_reading_options
from mapsvc.db.engine import database_url, make_engine, make_sessionmaker
from mapsvc.services.harvest import manage
from mapsvc.services.harvest.fetcher import FetchPolicy
from mapsvc.services.harvest.scheduler import Harvester
from mapsvc.services.harvest.sources import (
    DEFAULT_MAX_MOVE_M,
    DEFAULT_MAX_REMOVED_SHARE,
    UPLOAD_FIELDS,
    UPLOAD_FLAGS,
    source_definition,
)
from mapsvc.settings import Settings


def add_source_options(command: argparse.ArgumentParser) -> None:
    """``mapsvc sources add``'s options: where, what to pick, when, the limits, how to read."""
    command.add_argument("--url", required=True, help="the file, CKAN catalogue or BODIK API URL")
    command.add_argument("--kind", choices=("file", "ckan", "bodik"), default="file")
    command.add_argument("--reference", help="CKAN dataset id, or BODIK API name (aed, …)")
    command.add_argument("--pick-format", help="CKAN: the resource's format, e.g. CSV")
    command.add_argument("--pick-name", help="CKAN: text in the resource's name")
    command.add_argument("--pick-tag", help="CKAN: a tag the dataset must carry (自治体標準ODS)")
    command.add_argument(
        "--schedule", default="daily", help="hourly, daily, weekly or a cron line (Japan time)"
    )
    command.add_argument(
        "--max-removed",
        type=float,
        default=DEFAULT_MAX_REMOVED_SHARE,
        help="publish unattended only if at most this share of features disappears (0.2)",
    )
    command.add_argument(
        "--max-move-m",
        type=float,
        default=DEFAULT_MAX_MOVE_M,
        help="… and no feature moves further than this many metres (1000)",
    )
    add_reading_options(command)


def cmd_sources_add(settings: Settings, args: argparse.Namespace) -> int:
    """Give a dataset a source (or change it); it is fetched at the next scheduler round."""
    options = {name: getattr(args, name) for name in (*UPLOAD_FIELDS, *UPLOAD_FLAGS, "data_date")}
    definition = source_definition(
        FetchPolicy.from_settings(settings),
        kind=args.kind,
        url=args.url,
        reference=args.reference,
        pick_format=args.pick_format,
        pick_name=args.pick_name,
        pick_tag=args.pick_tag,
        schedule=args.schedule,
        max_removed_share=args.max_removed,
        max_move_m=args.max_move_m,
        options=options,
    )
    with session_scope(settings) as session:
        view = manage.set_source(
            session,
            layer=layer_of(args.layer),
            municipality=to_code6(args.municipality),
            definition=definition,
            actor=CLI_ACTOR,
        )
    print(f"{view['layer']}\t{view['municipality']}\t{view['kind']}\t{view['url']}")
    return 0


def cmd_sources_list(settings: Settings, args: argparse.Namespace) -> int:
    """Every source and its health: last checked, last changed, the last problem."""
    with session_scope(settings) as session:
        views = manage.list_sources(session)
    if args.json:
        print(json.dumps(views, ensure_ascii=False, indent=2))
        return 0
    for view in views:
        health = (
            "paused"
            if view["paused"]
            else "FLAGGED"
            if view["flagged"]
            else "needs a person"
            if view["needs_person"]
            else "ok"
        )
        problem = view["problem"]["ja"] if view["problem"] else ""
        print(
            f"{view['layer']}\t{view['municipality']}\t{view['kind']}\t{view['schedule']}\t"
            f"{health}\tchecked {view['last_checked_at'] or '-'}\t"
            f"changed {view['last_changed_at'] or '-'}\t{view['url']}\t{problem}"
        )
    return 0


def cmd_sources_run(settings: Settings, args: argparse.Namespace) -> int:
    """Fetch a dataset's source now (exit 1 when the fetch failed or the file was rejected)."""
    with session_scope(settings) as session:
        result = manage.run_now(
            session, settings, load_catalog(), args.layer, to_code6(args.municipality)
        )
    print(f"{result.outcome}\tHTTP {result.http_status or '-'}\tversion {result.version_id or '-'}")
    if result.message_ja:
        print(f"{result.message_ja}\n{result.message_en}")
    return 1 if result.outcome in ("failed", "rejected") else 0


def cmd_sources_pause(settings: Settings, args: argparse.Namespace) -> int:
    """Stop fetching a dataset's source (its published data stays)."""
    return _pause(settings, args, paused=True)


def cmd_sources_resume(settings: Settings, args: argparse.Namespace) -> int:
    """Fetch a paused source again (due at once)."""
    return _pause(settings, args, paused=False)


def _pause(settings: Settings, args: argparse.Namespace, *, paused: bool) -> int:
    with session_scope(settings) as session:
        manage.pause_source(
            session, args.layer, to_code6(args.municipality), paused=paused, actor=CLI_ACTOR
        )
    return 0


def start_harvester(settings: Settings) -> Harvester:
    """The scheduler loop on its own engine, started (``stop()`` it when done)."""
    engine = make_engine(database_url(settings.database), settings.database)
    harvester = Harvester(make_sessionmaker(engine), settings, load_catalog())
    harvester.start()
    return harvester


def cmd_harvest(settings: Settings, _: argparse.Namespace) -> int:
    """Run the harvest scheduler until stopped (its own service; see MAPSVC_HARVEST__EMBEDDED)."""
    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    harvester = start_harvester(settings)
    stopping.wait()
    harvester.stop()
    return 0
