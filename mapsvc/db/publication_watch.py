"""A generation counter that moves whenever published data changes (PostgreSQL LISTEN/NOTIFY).

Migration 0005 makes every change to ``dataset`` or ``municipality`` send a notice at commit.
A daemon thread per process listens on its own connection; while it is not connected (database
restarting, network trouble) ``current()`` is None and nothing may be served from a cache.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import make_url

CHANNEL = "mapsvc_publication"
APPLICATION_NAME = "mapsvc-publication-watch"  # how it shows in pg_stat_activity
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
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publication-watch", daemon=True)

    def current(self) -> int | None:
        """The generation, or None while not listening (then nothing is served from memory)."""
        return self._generation if self._connected else None

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

    def _changed(self) -> None:
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
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Anything may have changed while we were not listening.
                    self._changed()
                    self._connected = True
                    self._listening.set()
                    quiet_seconds = 0
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._changed()
                        quiet_seconds += 1
                        if quiet_seconds >= PING_EVERY:
                            conn.execute("SELECT 1")  # raises if the link is gone
                            quiet_seconds = 0
            except psycopg.Error as error:
                log.warning("publication watch lost its connection (%s); retrying", error)
            finally:
                self._connected = False
            self._stop.wait(RETRY_S)
