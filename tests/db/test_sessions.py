"""Read sessions run each statement on its own; the pool's connections come back as they were."""

import pytest
from sqlalchemy import text

from mapsvc.db.engine import make_read_sessionmaker, make_sessionmaker

pytestmark = pytest.mark.db

TWICE = "SELECT now() FROM pg_sleep(0.01)"


def _two_nows(sessions) -> tuple:
    with sessions() as session:
        return session.execute(text(TWICE)).scalar(), session.execute(text(TWICE)).scalar()


def test_a_read_session_opens_no_transaction(engine):
    first, second = _two_nows(make_read_sessionmaker(engine))
    assert first < second  # now() is the transaction's start: each statement had its own


def test_sessions_after_a_read_session_have_their_transaction_again(engine):
    for _ in range(engine.pool.size() + 1):  # every pooled connection has served a read once
        _two_nows(make_read_sessionmaker(engine))
    first, second = _two_nows(make_sessionmaker(engine))
    assert first == second
