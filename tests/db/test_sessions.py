"""Read sessions run each statement on its own; the pool's connections come back as they were."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mapsvc.db import features
from mapsvc.db.engine import database_url, make_engine, make_read_sessionmaker, make_sessionmaker
from mapsvc.db.features import FeatureQuery

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


def test_a_page_on_a_connection_the_server_dropped_fails_once_and_the_pool_recovers(
    engine, demo, test_settings
):
    # The items page runs on the session's connection (features.select_page): a dead socket is
    # SQLAlchemy's OperationalError (answered 503), and the dead connection must not stay pooled.
    own = make_engine(database_url(test_settings.database), test_settings.database, pool_size=1)
    sessions = make_read_sessionmaker(own)
    query = FeatureQuery(layer_id="evacuation_sites", limit=3)
    try:
        with sessions() as session:
            assert len(features.select_page(session, query)) == 3
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as admin:
            # With a timeout it returns once the backend has gone, so the next page meets a dead socket.
            gone = admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            assert gone.scalar()
        with sessions() as session, pytest.raises(OperationalError):
            features.select_page(session, query)
        with sessions() as session:
            assert len(features.select_page(session, query)) == 3
            assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        own.dispose()
