"""The database's failures as domain errors: a full pool is Busy, a lost server Unavailable (503).

Here, where SQLAlchemy may be imported, and not in ``mapsvc.errors``, which every front end
imports. The composition roots (``mapsvc.app``, ``mapsvc.cli``) register them at start, so every
front end answers a database failure from the one error table.
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mapsvc.errors import Busy, Unavailable, translate


def translate_database_errors() -> None:
    """Register the database's failures with ``mapsvc.errors`` (calling it again changes nothing)."""
    translate(PoolTimeout, lambda _: Busy())
    translate(OperationalError, lambda _: Unavailable())
