"""Read replicas for public reads: which one may answer now, and how far behind each one is.

A replica may answer a public read only when it has replayed the primary's WAL at least as far
as the position the publication watch read after the latest publish (``PublicationWatch
.primary_lsn``); until it has, the read goes to the primary. So no reader gets data older than
a publish that has returned to its caller (the publish waits for every watch, and each watch
notes the position before it moves its generation). A monitor thread asks every replica and
the primary twice a second; a replica that does not answer, or lags more than ``max_lag_s``
behind the primary, is skipped until it catches up.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import Engine, TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mapsvc.db.engine import make_engine, make_read_sessionmaker
from mapsvc.settings import DatabaseSettings

CHECK_EVERY_S = 0.5
STALE_AFTER_S = 2.0  # health older than this is not believed
HISTORY = 240  # primary positions kept (two minutes at CHECK_EVERY_S), to turn bytes into time
log = logging.getLogger(__name__)


@dataclass
class ReplicaHealth:
    """What the monitor last saw of one replica."""

    name: str
    replayed: int | None = None  # bytes since 0/0; None: not answering
    lag_s: float | None = None  # how long ago the primary was where the replica is now
    checked_at: float = 0.0  # monotonic; a monitor stuck on a hung server leaves this behind

    def usable(self, needed: int | None, max_lag_s: float) -> bool:
        """Up, close enough to the primary, and past ``needed`` (None: position unknown)."""
        return (
            needed is not None
            and time.monotonic() - self.checked_at < STALE_AFTER_S
            and self.replayed is not None
            and self.replayed >= needed
            and self.lag_s is not None
            and self.lag_s <= max_lag_s
        )


class Replicas:
    """The configured replicas, their sessions and their health."""

    def __init__(
        self, urls: list[str], primary: Engine, settings: DatabaseSettings, max_lag_s: float
    ) -> None:
        self.max_lag_s = max_lag_s
        self._primary = primary
        # Pinged at checkout: a replica that went away since the last check is noticed before a
        # query runs on it, and its reads go to the primary (``open_session``).
        self._engines = [make_engine(url, settings, pre_ping=True) for url in urls]
        self._sessions = [make_read_sessionmaker(engine) for engine in self._engines]
        self.health = [ReplicaHealth(f"replica{i}") for i in range(len(urls))]
        self._primary_positions: deque[tuple[float, int]] = deque(maxlen=HISTORY)
        self._turn = itertools.count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replica-monitor", daemon=True)

    def start(self) -> None:
        """Check once now (so a fresh server can use its replicas), then keep checking."""
        self.check()
        self._thread.start()

    def stop(self) -> None:
        """Stop the monitor and close the replicas' connections."""
        self._stop.set()
        self._thread.join(timeout=5)
        for engine in self._engines:
            engine.dispose()

    def open_session(self, needed: int | None) -> Session | None:
        """A connected session on a replica that may answer now (taking turns), or None."""
        usable = [i for i, h in enumerate(self.health) if h.usable(needed, self.max_lag_s)]
        if not usable:
            return None
        index = usable[next(self._turn) % len(usable)]
        session = self._sessions[index]()
        try:
            session.connection()
        except DBAPIError as error:
            session.close()
            self.health[index].replayed = None  # until the monitor sees it answer again
            log.warning("read replica %s is not answering: %s", self.health[index].name, error)
            return None
        return session

    def check(self) -> None:
        """Ask the primary and every replica where they are."""
        now = time.monotonic()
        primary = _position(self._primary, _PRIMARY_POSITION)
        if primary is not None:
            self._primary_positions.append((now, primary))
        for engine, health in zip(self._engines, self.health, strict=True):
            replayed = _position(engine, _REPLAYED_POSITION)
            health.replayed = replayed
            health.lag_s = None if replayed is None else self._lag(replayed, now)
            health.checked_at = time.monotonic()

    def _lag(self, replayed: int, now: float) -> float | None:
        """Seconds since the primary was last at or before ``replayed`` (0: caught up)."""
        if not self._primary_positions:
            return None
        if replayed >= self._primary_positions[-1][1]:
            return 0.0
        at_or_before = [t for t, position in self._primary_positions if position <= replayed]
        # Behind everything remembered: at least as old as the history.
        return now - (at_or_before[-1] if at_or_before else self._primary_positions[0][0])

    def _run(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            self.check()


# WAL positions in bytes since 0/0: how far the primary has written, how far a replica replayed.
_PRIMARY_POSITION = text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
_REPLAYED_POSITION = text("SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn")


def _position(engine: Engine, statement: TextClause) -> int | None:
    """A server's WAL position in bytes, or None when it does not answer in a second."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 1000"))
            value = conn.scalar(statement)
            return None if value is None else int(value)
    except Exception as error:  # any failure means "skip it for now"
        log.debug("WAL position not readable: %s", error)
        return None
