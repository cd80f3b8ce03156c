"""The transaction of a use case."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mapsvc.db.publication_watch import announce_barrier, watches_behind
from mapsvc.db.writes import PUBLICATION_CHANGED

# How long a publish waits for every server's publication watch to have heard of it. A watch
# that is not listening is not waited for (its server serves nothing from memory meanwhile);
# one that hangs (a stopped process) delays publishes by this much at most.
WATCH_WAIT_S = 2.0
log = logging.getLogger(__name__)


@contextmanager
def unit_of_work(session: Session) -> Iterator[None]:
    """Commit what the block did, or roll all of it back.

    When the block changed what is published, return only once every server has heard: from
    then on no worker serves the earlier data from its memory or from a replica behind it.
    """
    try:
        yield
        session.commit()
    except BaseException:
        session.info.pop(PUBLICATION_CHANGED, None)
        session.rollback()
        raise
    if session.info.pop(PUBLICATION_CHANGED, False):
        wait_for_watches(session)


def wait_for_watches(session: Session, timeout_s: float = WATCH_WAIT_S) -> bool:
    """Wait until every listening publication watch has seen what was committed; True if all did.

    The commit stands either way: a failure here is logged, never raised.
    """
    try:
        barrier = announce_barrier(session)
        deadline = time.monotonic() + timeout_s
        while (behind := watches_behind(session, barrier)) > 0:
            if time.monotonic() > deadline:
                log.warning(
                    "%d publication watch(es) did not confirm within %.1f s", behind, timeout_s
                )
                return False
            time.sleep(0.005)
        return True
    except DBAPIError as error:
        session.rollback()
        log.warning("could not confirm the publish with the watches: %s", error)
        return False
