"""The database's failures as domain errors: a full pool, a lost server (503), a bad value (400).

A full pool is Busy, a lost server Unavailable, a value no column can hold (an id past bigint,
a NUL in text, a lone surrogate) an InvalidParameter.

Here, where SQLAlchemy may be imported, and not in ``mapsvc.errors``, which every front end
imports. The composition roots (``mapsvc.app``, ``mapsvc.cli``) register them at start, so every
front end answers a database failure from the one error table.
"""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mapsvc.errors import Busy, InvalidParameter, Unavailable, translate


def _bad_value(_: Exception) -> InvalidParameter:
    # PostgreSQL's data exceptions (SQLSTATE class 22) and psycopg's refusal of NUL in text:
    # a value from the request that no column can hold, such as an id past bigint.
    return InvalidParameter(
        "値が範囲外か、使えない文字（NUL など）を含んでいます",
        "A value is out of range, or holds a character that cannot be used (such as NUL)",
    )


def translate_database_errors() -> None:
    """Register the database's failures with ``mapsvc.errors`` (calling it again changes nothing)."""
    translate(PoolTimeout, lambda _: Busy())
    translate(OperationalError, lambda _: Unavailable())
    translate(DataError, _bad_value)
    translate(psycopg.DataError, _bad_value)  # raised outside SQLAlchemy too (COPY)
    # psycopg encodes text parameters to UTF-8: a lone surrogate, which JSON may spell (\ud800),
    # fails there with Python's own error, before the server sees it. (The service's other
    # encodings use errors="replace", so this names no bug of ours.)
    translate(UnicodeEncodeError, _bad_value)
