"""COPY through psycopg on a session's own connection, failing the way SQLAlchemy's execute does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


@contextmanager
def driver_cursor(session: Session, statement: str) -> Iterator[psycopg.Cursor[Any]]:
    """A psycopg cursor on the session's connection (its transaction), for ``statement``: a COPY.

    SQLAlchemy has no COPY (the ``mapsvc.db`` rule: psycopg for COPY and LISTEN only). Driver
    errors come out as SQLAlchemy's DBAPIError family, so an OperationalError (a statement or
    lock timeout, a lost server) is answered 503, not 500; a connection that broke is
    invalidated, so closing the session skips its rollback and the pool opens a new one.
    """
    connection = session.connection()
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    try:
        with driver.cursor() as cursor:
            yield cursor
    except psycopg.Error as error:
        broken = driver.broken
        if broken:
            connection.invalidate(error)
        raise DBAPIError.instance(
            statement, None, error, psycopg.Error, connection_invalidated=broken
        ) from error
