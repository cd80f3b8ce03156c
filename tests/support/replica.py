"""A real streaming replica of the embedded cluster, on loopback, made with pg_basebackup."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from mapsvc.embedded import SUPERUSER, EmbeddedCluster
from mapsvc.settings import Settings
from tests.support.server import free_port


@dataclass
class Replica:
    """A hot standby: its SQLAlchemy URL (for one database) and how to pause or stop it."""

    primary: EmbeddedCluster
    data_dir: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}:{self.primary.password()}@127.0.0.1:{self.port}/{database}"

    def sql(self, database: str, statement: str) -> object:
        engine = create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                return conn.scalar(text(statement))
        finally:
            engine.dispose()

    def start(self) -> None:
        self.primary.run_tool(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir.parent / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.data_dir.parent} -c listen_addresses=127.0.0.1 "
            "-c hot_standby=on -c jit=off",
        )

    def stop(self, mode: str = "fast") -> None:
        self.primary.run_tool(
            "pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", check=False
        )


def embedded_primary(settings: Settings) -> EmbeddedCluster:
    """The embedded cluster the test database lives in (replicas need a cluster we manage)."""
    base = Settings()
    if base.database.url is not None:
        raise RuntimeError("replica tests need the embedded cluster (MAPSVC_DATABASE__URL is set)")
    cluster = EmbeddedCluster.from_settings(base.database)
    assert make_url(settings.database.url.get_secret_value()).port == cluster.port
    return cluster


@contextmanager
def streaming_replica(settings: Settings) -> Iterator[Replica]:
    """pg_basebackup the test cluster into a temporary directory, start it as a standby."""
    primary = embedded_primary(settings)
    base = Path(tempfile.mkdtemp(prefix="mapsvc-replica-", dir="/tmp"))
    if os.geteuid() == 0:  # the server's OS user writes the copy
        account = pwd.getpwnam(primary.os_user)
        os.chown(base, account.pw_uid, account.pw_gid)
    replica = Replica(primary, base / "data", free_port())
    source = f"postgresql://{SUPERUSER}:{primary.password()}@127.0.0.1:{primary.port}/postgres"
    try:
        # -R: standby.signal and primary_conninfo; -X stream: the WAL of the copy comes along.
        primary.run_tool(
            "pg_basebackup",
            "-d",
            source,
            "-D",
            str(replica.data_dir),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        replica.start()
        yield replica
    finally:
        replica.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)
