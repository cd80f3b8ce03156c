"""The transaction of a use case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def unit_of_work(session: Session) -> Iterator[None]:
    """Commit what the block did, or roll all of it back."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
