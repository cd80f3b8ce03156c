"""Scratch databases for tests whose work is committed (subprocesses, crash recovery)."""

from __future__ import annotations

import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, make_url

from layers import load_catalog
from mapsvc.db.engine import create_database, make_engine, make_sessionmaker
from mapsvc.embedded import EmbeddedCluster
from mapsvc.services.setup import upgrade_database
from mapsvc.settings import Settings
from tests.support.server import free_port
from tests.support.waiting import wait_for


def seeded_database(settings: Settings, server_url: str) -> tuple[Settings, Engine, str]:
    """A fresh database (schema and reference data, no demo) on the server of ``server_url``."""
    name = f"scratch_{secrets.token_hex(3)}"
    create_database(server_url, name)
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    settings = settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": SecretStr(url), "name": name})
        }
    )
    engine = make_engine(url, settings.database)
    upgrade_database(engine, make_sessionmaker(engine), catalog=load_catalog(), settings=settings)
    return settings, engine, name


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
