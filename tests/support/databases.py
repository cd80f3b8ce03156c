"""Test databases: the session's templates and their copies, scratch databases, throwaway clusters.

Building a database costs 5 s (migrations, municipalities, boundaries) and 30 s more with the
demo data; copying a template built once (CREATE DATABASE … TEMPLATE) takes under a second. So
the session builds two templates, seeded and seeded + demo, and every database a test needs is
a copy of one; only a server of its own (a throwaway cluster) builds from nothing.
"""

from __future__ import annotations

import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, make_url, text

from layers import load_catalog
from mapsvc.db.engine import create_database, drop_database, make_engine, make_sessionmaker
from mapsvc.embedded import EmbeddedCluster
from mapsvc.services.demo import DemoResult, load_demo
from mapsvc.services.setup import upgrade_database
from mapsvc.settings import Settings
from tests.support.server import free_port
from tests.support.waiting import wait_for


def on_database(settings: Settings, server_url: str, name: str) -> Settings:
    """``settings`` pointing at database ``name`` on the server of ``server_url``."""
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": SecretStr(url), "name": name})
        }
    )


def seeded_database(
    settings: Settings, server_url: str, name: str | None = None
) -> tuple[Settings, Engine, str]:
    """A new database (schema and reference data, no demo) built on the server of ``server_url``."""
    name = name or f"scratch_{secrets.token_hex(3)}"
    create_database(server_url, name)
    settings = on_database(settings, server_url, name)
    engine = make_engine(settings.database.url.get_secret_value(), settings.database)
    upgrade_database(engine, make_sessionmaker(engine), catalog=load_catalog(), settings=settings)
    return settings, engine, name


def copy_database(
    settings: Settings, server_url: str, template: str, name: str | None = None
) -> tuple[Settings, str]:
    """A new database copied from ``template`` (which nobody may be connected to)."""
    name = name or f"scratch_{secrets.token_hex(3)}"
    admin = create_engine(
        make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return on_database(settings, server_url, name), name


@dataclass(frozen=True)
class Templates:
    """The session's template databases on one server, built once, copied by every test."""

    settings: Settings  # what the copies' settings derive from
    server_url: str
    seeded: str  # schema and reference data
    demo: str  # the same with the demo data set loaded
    demo_result: DemoResult

    def copy(self, template: str, name: str | None = None) -> tuple[Settings, str]:
        """A new database copied from ``template``: its settings and its name."""
        return copy_database(self.settings, self.server_url, template, name)

    def drop(self) -> None:
        for name in (self.demo, self.seeded):
            drop_database(self.server_url, name)


def build_templates(settings: Settings, server_url: str, prefix: str) -> Templates:
    """The seeded template, then the demo one from a copy of it; no connection to either is
    left open (a database with connections cannot be copied)."""
    _, engine, seeded = seeded_database(settings, server_url, f"{prefix}_seeded")
    engine.dispose()
    demo_settings, demo = copy_database(settings, server_url, seeded, f"{prefix}_demo")
    engine = make_engine(demo_settings.database.url.get_secret_value(), demo_settings.database)
    try:
        result = load_demo(
            make_sessionmaker(engine), load_catalog(), demo_settings.demo_manifest, demo_settings
        )
    finally:
        engine.dispose()
    return Templates(settings, server_url, seeded, demo, result)


@contextmanager
def throwaway_cluster(settings: Settings) -> Iterator[EmbeddedCluster]:
    """A fresh embedded cluster of its own (for tests that kill or stop PostgreSQL), removed after."""
    directory = Path(tempfile.mkdtemp(prefix="mapsvc-crash-", dir="/tmp"))
    directory.chmod(0o755)  # the cluster's OS user must reach it
    cluster = EmbeddedCluster(directory / "state", free_port(), settings.database.embedded_os_user)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def restart_after_crash(cluster: EmbeddedCluster) -> bool:
    """Once a killed server's processes are gone, start it again (crash recovery replays the WAL)."""
    # Children notice the postmaster's death and exit.
    wait_for(lambda: not cluster.is_running(), timeout=5, what="the killed server to exit")
    (cluster.data_dir / "postmaster.pid").unlink(missing_ok=True)
    return cluster.start()
