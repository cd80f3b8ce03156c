"""Engines and sessions, and the database URL the settings resolve to."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from mapsvc.embedded import EmbeddedCluster, valid_database_name
from mapsvc.settings import DatabaseSettings


def database_url(settings: DatabaseSettings) -> str:
    """The configured external URL, or the embedded cluster's database."""
    if settings.url is not None:
        return settings.url.get_secret_value()
    return EmbeddedCluster.from_settings(settings).url(settings.name)


class WaitCountingPool(QueuePool):
    """SQLAlchemy's QueuePool counting the checkouts under way (``waiting``, for /metrics).

    While it stays above zero the pool is what requests queue for.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waits = threading.Lock()
        self.waiting = 0

    def _do_get(self) -> ConnectionPoolEntry:
        with self._waits:
            self.waiting += 1
        try:
            return super()._do_get()
        finally:
            with self._waits:
                self.waiting -= 1


def make_engine(
    url: str, settings: DatabaseSettings, *, pool_size: int | None = None, pre_ping: bool = False
) -> Engine:
    """An engine with bounded waits: pool checkout, connect, and every statement."""
    return create_engine(
        url,
        poolclass=WaitCountingPool,
        pool_size=pool_size or settings.pool_size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout_s,
        # No pre-ping on the primary: it costs a round trip per request; a dead connection
        # surfaces as an OperationalError (answered 503) and the pool replaces it.
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": 3 if pre_ping else 10,
            # Custom plans always: the generic plan of the bbox query (psycopg prepares statements
            # after five runs) joined datasets per feature and ran 8x slower on 1,000 points.
            "options": f"-c statement_timeout={settings.statement_timeout_ms} -c jit=off "
            "-c plan_cache_mode=force_custom_plan",
            "application_name": "mapsvc",
        },
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded rows usable after commit (services return them)."""
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reading published data only: each statement runs on its own (autocommit).

    At READ COMMITTED every statement takes its own snapshot whether a transaction surrounds it
    or not, so a read loses nothing and saves the BEGIN and ROLLBACK round trips (0.3 ms of the
    1.5 ms a small page spent on the database). Not for writes, locks or ``SET LOCAL``.
    """
    return sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


def create_database(url: str, name: str) -> bool:
    """Create database ``name`` on the server of ``url`` unless it exists; True if created."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                quoted = valid_database_name(name)
                try:
                    # A UTF-8 character classification (sorting stays C): pg_trgm takes trigrams
                    # from Japanese only then, and lower() knows more than ASCII.
                    conn.execute(
                        text(
                            f"CREATE DATABASE \"{quoted}\" TEMPLATE template0 ENCODING 'UTF8' "
                            "LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"
                        )
                    )
                except DBAPIError:  # a server without that locale: its default, as before
                    conn.execute(text(f'CREATE DATABASE "{quoted}"'))
            return not exists
    finally:
        admin.dispose()


def holds_versions(url: str, settings: DatabaseSettings) -> bool:
    """Whether the database at ``url`` has mapsvc's tables with at least one version in them."""
    engine = make_engine(url, settings)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename IN ('version', 'dataset', 'audit_log')"
                )
            ).scalar_one()
            if not tables:
                return False
            return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM version)")).scalar())
    finally:
        engine.dispose()


def drop_database(url: str, name: str) -> None:
    """Drop database ``name`` (used by the test suite for its throwaway database)."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(f'DROP DATABASE IF EXISTS "{valid_database_name(name)}" WITH (FORCE)')
            )
    finally:
        admin.dispose()
