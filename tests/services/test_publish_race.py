"""Publishing races: upload-with-publish, rollback and take-down at once keep one published version.

Each use case runs in its own session and transaction, on a scratch database whose commits are
real, as two clerks' requests (or a clerk and the CLI) would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text

from layers import load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.errors import Conflict
from mapsvc.services import datasets, uploads
from tests.support.staging import KISHIWADA, aed_file

pytestmark = pytest.mark.db

ROUNDS = 10


def _upload(make_session, settings, names: list[str]) -> int:
    with make_session() as session:
        result = uploads.upload(
            session,
            settings,
            layer=load_catalog()["aed"],
            municipality=KISHIWADA,
            source=aed_file(names),
            request=uploads.upload_request(publish=True),
            actor="uploader",
        )
        return result.version.id


def _retired(engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT v.id FROM version v JOIN dataset d ON d.id = v.dataset_id "
                    "WHERE d.layer_id = 'aed' AND d.municipality_code = :m "
                    "AND v.status = 'retired' ORDER BY v.id"
                ),
                {"m": KISHIWADA},
            ).scalars()
        )


def test_upload_with_publish_rollback_and_take_down_racing_leave_one_published_version(scratch):
    settings, engine = scratch
    make_session = make_sessionmaker(engine)
    _upload(make_session, settings, ["first"])
    _upload(make_session, settings, ["second"])  # "first" is now retired: a rollback target
    unexpected: list[BaseException] = []

    def run(work: Callable[[int], None]) -> threading.Thread:
        def body() -> None:
            for i in range(ROUNDS):
                try:
                    work(i)
                except Conflict:
                    pass  # "already published" / "nothing published": a fair refusal
                except BaseException as error:  # anything else is the bug
                    unexpected.append(error)

        return threading.Thread(target=body)

    def upload_and_publish(i: int) -> None:
        _upload(make_session, settings, [f"upload {i}", f"site {i}"] * 40)  # a wide window

    def roll_back(i: int) -> None:
        targets = _retired(engine)
        with make_session() as session:
            datasets.rollback_to(
                session, "aed", KISHIWADA, version_id=targets[i % len(targets)], actor="roller"
            )

    def take_down(_: int) -> None:
        with make_session() as session:
            datasets.take_down(session, "aed", KISHIWADA, reason="race", actor="taker")

    threads = [run(upload_and_publish), run(roll_back), run(take_down)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not unexpected, unexpected

    with engine.connect() as conn:
        current, published = conn.execute(
            text(
                "SELECT d.current_version_id, array_remove(array_agg(v.id) FILTER "
                "(WHERE v.status = 'published'), NULL) FROM dataset d "
                "JOIN version v ON v.dataset_id = d.id "
                "WHERE d.layer_id = 'aed' AND d.municipality_code = :m GROUP BY d.id"
            ),
            {"m": KISHIWADA},
        ).one()
        flips = conn.execute(
            text(
                "SELECT action, version_id, detail FROM audit_log WHERE layer_id = 'aed' "
                "AND municipality_code = :m AND action IN ('publish', 'rollback', 'take_down') "
                "ORDER BY id"
            ),
            {"m": KISHIWADA},
        ).all()
    assert published == ([] if current is None else [current])
    # The audit log replays to the same pointer: every flip names the version it replaced.
    pointer = None
    for action, version_id, detail in flips:
        if action == "take_down":
            assert version_id == pointer, flips
            pointer = None
        else:
            assert detail["previous_version_id"] == pointer, flips
            pointer = version_id
    assert pointer == current
    # Take-down and rollback still work on whatever state the race left.
    for version_id in _retired(engine)[:1]:
        with make_session() as session:
            datasets.rollback_to(session, "aed", KISHIWADA, version_id=version_id, actor="after")
    with make_session() as session:
        datasets.take_down(session, "aed", KISHIWADA, reason="after", actor="after")


def test_the_database_refuses_a_second_published_version(scratch):
    settings, engine = scratch
    make_session = make_sessionmaker(engine)
    _upload(make_session, settings, ["first"])
    _upload(make_session, settings, ["second"])
    with engine.connect() as conn, pytest.raises(Exception, match="one_published_per_dataset"):
        conn.execute(
            text(
                "UPDATE version SET status = 'published' WHERE status = 'retired' "
                "AND dataset_id = (SELECT id FROM dataset WHERE layer_id = 'aed' "
                "AND municipality_code = :m)"
            ),
            {"m": KISHIWADA},
        )
