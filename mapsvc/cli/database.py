"""Commands that run the service and manage its database and reference data."""

from __future__ import annotations

import argparse
import os

from layers import load_catalog
from mapsvc.cli.common import session_scope
from mapsvc.cli.sources import start_harvester
from mapsvc.db import queries
from mapsvc.db.engine import create_database, database_url, make_engine, make_sessionmaker
from mapsvc.db.migrate import current_revision, head_revision
from mapsvc.embedded import EmbeddedCluster
from mapsvc.logs import log_config
from mapsvc.services import backup
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
    upgrade_database(engine, make_sessionmaker(engine), catalog=load_catalog(), settings=settings)
    print(f"schema at revision {current_revision(engine)}; catalog and municipalities in sync")
    engine.dispose()
    return 0


def cmd_demo_load(settings: Settings, _: argparse.Namespace) -> int:
    """Load the bundled demo data (only what is not loaded yet)."""
    engine = make_engine(database_url(settings.database), settings.database)
    result = load_demo(make_sessionmaker(engine), load_catalog(), settings.demo_manifest, settings)
    engine.dispose()
    print(
        f"demo: {result.files_loaded} files loaded, {result.files_skipped} already loaded; "
        f"{result.versions_published} versions published, {result.features} features"
    )
    for layer, count in sorted(result.by_layer.items()):
        print(f"  {layer}: {count}")
    return 0


def default_workers() -> int:
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the API and the viewer; stop the embedded cluster on exit if this started it."""
    import uvicorn

    started = _ensure_database(settings)
    harvester = None
    try:
        if settings.demo:
            cmd_demo_load(settings, args)
        if settings.harvest.embedded:  # else a `mapsvc harvest` service runs the sources
            harvester = start_harvester(settings)
        uvicorn.run(
            "mapsvc.app:create_app",
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            # Each worker has its own pools, publication watch and response cache; uvicorn
            # replaces a worker that dies or stops answering its health pings.
            workers=args.workers or settings.workers or default_workers(),
            # The app applies forwarded headers itself, from MAPSVC_TRUSTED_PROXIES only.
            proxy_headers=False,
            access_log=False,  # the app writes its own (mapsvc.logs), with route and cache
            log_config=log_config(settings.log_format),
            # Behind nginx's keepalive pool: idle upstream connections outlive nginx's reuse.
            timeout_keep_alive=75,
        )
    finally:
        if harvester is not None:
            harvester.stop()
        cluster = _embedded(settings)
        if started and cluster:
            cluster.stop()
    return 0


def cmd_municipalities_list(settings: Settings, _: argparse.Namespace) -> int:
    """Print every municipality: code, kind, names, parent."""
    with session_scope(settings) as session:
        for m in queries.list_municipalities(session):
            print(f"{m.code}\t{m.kind}\t{m.name_ja}\t{m.name_en}\t{m.parent_code or ''}")
    return 0


def cmd_layers_list(_: Settings, __: argparse.Namespace) -> int:
    """Print the catalog: id, category, geometry type, titles."""
    for layer in load_catalog().values():
        print(
            f"{layer.id}\t{layer.category.value}\t{layer.geometry_type.value}\t"
            f"{layer.title.ja}\t{layer.title.en}"
        )
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """Write the whole service (data, versions, original files, audit, accounts) to a file."""
    started = _ensure_database(settings)
    try:
        size = backup.backup(settings, args.file)
    finally:
        if started:
            _embedded(settings).stop()  # type: ignore[union-attr]
    print(f"{args.file}: {size:,} bytes (pg_dump custom format; restore with `mapsvc restore`)")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore a backup into the service's database (refused over data unless --replace)."""
    started = _ensure_database(settings)
    try:
        backup.restore(settings, args.file, replace=args.replace)
    finally:
        if started:
            _embedded(settings).stop()  # type: ignore[union-attr]
    print(f"復元しました / restored: {args.file}")
    return 0
