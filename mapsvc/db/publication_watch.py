"""A generation counter that moves whenever published data changes (PostgreSQL LISTEN/NOTIFY).

Migration 0005 makes every change to ``dataset`` or ``municipality`` send a notice at commit.
A daemon thread per process listens on its own connection; while it is not connected (database
restarting, network trouble) ``current()`` is None and nothing may be served from a cache.

Several workers (and hosts) each have their own watch, so a publish is not over when it commits:
``announce_barrier`` sends a numbered notice after the commit and ``watches_behind`` counts the
watches that have not yet shown (in their ``application_name``) a number at least as high.
Notices arrive in commit order, so a watch that has seen the barrier has seen the publish: the
publisher waits for none to be behind before it answers (``services.transactions``).

Each watch also records the primary's WAL position after every notice: a read replica may answer
public reads only once it has replayed that far (``db.replicas``).
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg import sql
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

CHANNEL = "mapsvc_publication"
# How a watch shows in pg_stat_activity: "<name>/<highest barrier seen>".
APPLICATION_NAME = "mapsvc-publication-watch"
BARRIER = "barrier:"  # payload prefix of the numbered notices publishers wait on
RETRY_S = 1.0
READY_WAIT_S = 5.0
PING_EVERY = 10  # seconds between liveness checks: a silently dropped link must not pass as quiet
log = logging.getLogger(__name__)


def psycopg_conninfo(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://…`` as the plain URL psycopg connects with."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


class PublicationWatch:
    """``current()``: the generation to tag cached responses with, or None when unsure."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._generation = 0
        self._connected = False
        self._primary_lsn: int | None = None
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publication-watch", daemon=True)

    def current(self) -> int | None:
        """The generation, or None while not listening (then nothing is served from memory)."""
        return self._generation if self._connected else None

    def primary_lsn(self) -> int | None:
        """The primary's WAL position read after the latest notice (None while not listening).

        Set before the generation moves: a request that sees the new generation also sees it.
        """
        return self._primary_lsn if self._connected else None

    def start(self) -> None:
        """Start listening (in a daemon thread); wait a little for it, so a fresh server caches.

        If the database does not answer in time, the server starts anyway and the watch keeps
        trying; until it listens, nothing is served from memory.
        """
        self._thread.start()
        self._listening.wait(READY_WAIT_S)

    def stop(self) -> None:
        """Stop listening; the thread ends within a second."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _changed(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        """Published data changed: note how far the primary's WAL is, then move the generation."""
        row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
        self._primary_lsn = int(row[0]) if row else None  # type: ignore[call-overload]
        self._generation += 1  # only this thread writes; readers see old or new, both safe

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name=APPLICATION_NAME,
                    connect_timeout=5,
                    keepalives=1,
                    keepalives_idle=10,
                    keepalives_interval=5,
                    keepalives_count=3,
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    # Anything may have changed while we were not listening; every barrier
                    # numbered from now on will reach us, the earlier ones need no answer.
                    self._changed(conn)
                    seen = _acknowledge(conn, _next_barrier(conn) - 1)
                    self._connected = True
                    self._listening.set()
                    quiet_seconds = 0
                    while not self._stop.is_set():
                        notices = list(conn.notifies(timeout=1.0, stop_after=1))
                        if notices:  # and whatever else is already waiting
                            notices += conn.notifies(timeout=0)
                            changed, barrier = _read(notices, seen)
                            if changed:
                                self._changed(conn)
                            # Only now: a publisher waiting on this barrier may answer.
                            seen = _acknowledge(conn, barrier)
                        quiet_seconds += 1
                        if quiet_seconds >= PING_EVERY:
                            conn.execute("SELECT 1")  # raises if the link is gone
                            quiet_seconds = 0
            except psycopg.Error as error:
                log.warning("publication watch lost its connection (%s); retrying", error)
            finally:
                self._connected = False
            self._stop.wait(RETRY_S)


def _acknowledge(conn: psycopg.Connection[tuple[object, ...]], barrier: int) -> int:
    """Show the highest barrier seen in pg_stat_activity; return it."""
    conn.execute(
        "SELECT set_config('application_name', %s, false)", (f"{APPLICATION_NAME}/{barrier}",)
    )
    return barrier


def _read(notices: list[psycopg.Notify], barrier: int) -> tuple[bool, int]:
    """(Did published data change?, the highest barrier seen so far)."""
    changed = False
    for notice in notices:
        if notice.payload.startswith(BARRIER):
            barrier = max(barrier, int(notice.payload.removeprefix(BARRIER)))
        else:
            changed = True
    return changed, barrier


def _next_barrier(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The lowest number a barrier announced from now on can carry (assigns no transaction id)."""
    row = conn.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def announce_barrier(session: Session) -> int:
    """After a commit: send a notice numbered higher than any sent before it; return the number.

    The number is a fresh transaction id, so a barrier announced later never carries a lower
    one, and a watch that has seen any number at least this high has seen everything committed
    before this call.
    """
    token = int(session.scalar(text("SELECT pg_current_xact_id()::text")) or 0)
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CHANNEL, "payload": f"{BARRIER}{token}"},
    )
    session.commit()
    return token


def watches_behind(session: Session, barrier: int) -> int:
    """How many listening watches of this database have not yet seen ``barrier``."""
    behind = session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE :prefix "
            "AND split_part(application_name, '/', 2)::numeric < :barrier"
        ),
        {"prefix": f"{APPLICATION_NAME}/%", "barrier": barrier},
    )
    session.commit()  # pg_stat_activity is read once per transaction: the next call looks again
    return int(behind or 0)
