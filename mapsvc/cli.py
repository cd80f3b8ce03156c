"""The ``mapsvc`` command: serve, manage the database, load the demo, list reference data."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from layers import load_catalog
from mapsvc.db import queries
from mapsvc.db.engine import create_database, database_url, make_engine, make_sessionmaker
from mapsvc.db.migrate import current_revision, head_revision
from mapsvc.embedded import EmbeddedCluster, EmbeddedDatabaseError
from mapsvc.services.demo import load_demo
from mapsvc.services.setup import upgrade_database
from mapsvc.settings import Settings


def _embedded(settings: Settings) -> EmbeddedCluster | None:
    return None if settings.database.url else EmbeddedCluster.from_settings(settings.database)


def _ensure_database(settings: Settings) -> bool:
    """Start the embedded cluster if it is the one in use, and create the database.

    Returns whether this call started the cluster.
    """
    cluster = _embedded(settings)
    started = cluster.start() if cluster else False
    if cluster:
        create_database(cluster.url("postgres"), settings.database.name)
    return started


def cmd_db_start(settings: Settings, _: argparse.Namespace) -> int:
    """Start the embedded cluster (initialising it on first use)."""
    _ensure_database(settings)
    cluster = _embedded(settings)
    print(cluster.status() if cluster else "external database configured: nothing to start")
    return 0


def cmd_db_stop(settings: Settings, _: argparse.Namespace) -> int:
    """Stop the embedded cluster."""
    cluster = _embedded(settings)
    if cluster:
        cluster.stop()
        print(cluster.status())
    return 0


def cmd_db_status(settings: Settings, _: argparse.Namespace) -> int:
    """Print where the database is and which schema revision it has."""
    cluster = _embedded(settings)
    if cluster:
        print(cluster.status())
        if not cluster.is_running():
            return 1
    engine = make_engine(database_url(settings.database), settings.database)
    print(f"schema revision: {current_revision(engine)} (newest: {head_revision(engine)})")
    engine.dispose()
    return 0


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    """Apply migrations and synchronise the catalog, municipalities and boundaries."""
    _ensure_database(settings)
    engine = make_engine(database_url(settings.database), settings.database)
    upgrade_database(engine, make_sessionmaker(engine), load_catalog(), settings)
    print(f"schema at revision {current_revision(engine)}; catalog and municipalities in sync")
    engine.dispose()
    return 0


def cmd_demo_load(settings: Settings, _: argparse.Namespace) -> int:
    """Load the bundled demo data (only what is not loaded yet)."""
    engine = make_engine(database_url(settings.database), settings.database)
    result = load_demo(make_sessionmaker(engine), load_catalog(), settings.demo_manifest)
    engine.dispose()
    print(
        f"demo: {result.files_loaded} files loaded, {result.files_skipped} already loaded; "
        f"{result.versions_published} versions published, {result.features} features"
    )
    for layer, count in sorted(result.by_layer.items()):
        print(f"  {layer}: {count}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the API and the viewer; stop the embedded cluster on exit if this started it."""
    import uvicorn

    started = _ensure_database(settings)
    try:
        uvicorn.run(
            "mapsvc.app:create_app",
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            workers=args.workers,
            proxy_headers=True,
        )
    finally:
        cluster = _embedded(settings)
        if started and cluster:
            cluster.stop()
    return 0


def cmd_municipalities_list(settings: Settings, _: argparse.Namespace) -> int:
    """Print every municipality: code, kind, names, parent."""
    engine = make_engine(database_url(settings.database), settings.database)
    with make_sessionmaker(engine)() as session:
        for m in queries.list_municipalities(session):
            print(f"{m.code}\t{m.kind}\t{m.name_ja}\t{m.name_en}\t{m.parent_code or ''}")
    engine.dispose()
    return 0


def cmd_layers_list(_: Settings, __: argparse.Namespace) -> int:
    """Print the catalog: id, category, geometry type, titles."""
    for layer in load_catalog().values():
        print(
            f"{layer.id}\t{layer.category.value}\t{layer.geometry_type.value}\t"
            f"{layer.title.ja}\t{layer.title.en}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; ``mapsvc --help`` documents every command."""
    parser = argparse.ArgumentParser(
        prog="mapsvc",
        description="Wide-area digital map service. Settings come from MAPSVC_* environment "
        "variables; with no MAPSVC_DATABASE__URL an embedded PostGIS cluster is used.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        parent: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        handler: Callable[[Settings, argparse.Namespace], int],
    ) -> argparse.ArgumentParser:
        command = parent.add_parser(name, help=handler.__doc__, description=handler.__doc__)
        command.set_defaults(handler=handler)
        return command  # fmt: skip

    serve = add(sub, "serve", cmd_serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    db = sub.add_parser("db", help="the database: start, stop, status, upgrade")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    add(db_sub, "start", cmd_db_start)
    add(db_sub, "stop", cmd_db_stop)
    add(db_sub, "status", cmd_db_status)
    add(db_sub, "upgrade", cmd_db_upgrade)
    demo = sub.add_parser("demo", help="the bundled demo data set")
    add(
        demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION"),
        "load",
        cmd_demo_load,
    )
    municipalities = sub.add_parser("municipalities", help="the prefecture's municipalities")
    add(
        municipalities.add_subparsers(dest="m_command", required=True, metavar="ACTION"),
        "list",
        cmd_municipalities_list,
    )
    layers = sub.add_parser("layers", help="the layer catalog")
    add(
        layers.add_subparsers(dest="l_command", required=True, metavar="ACTION"),
        "list",
        cmd_layers_list,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mapsvc`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(Settings(), args)
    except EmbeddedDatabaseError as exc:
        print(f"mapsvc: {exc}", file=sys.stderr)
        return 2
    return code
