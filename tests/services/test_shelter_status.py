"""Shelter status: events and the current state per site, ETags, retries, modes, crowding."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from layers import load_catalog
from mapsvc.db import shelter_status as status_db
from mapsvc.db.engine import make_sessionmaker
from mapsvc.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from mapsvc.services import shelter_status
from tests.support.sites import KISHIWADA, OSHIBA, Site, publish_sites
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db

LAYER = "evacuation_sites"


def _change(session, catalog, fields, **options):
    return shelter_status.change(
        session, catalog, "staff:duty@example.jp", LAYER, KISHIWADA, OSHIBA, fields, **options
    )


def test_a_change_records_an_event_and_the_current_state_with_a_new_etag(session, catalog):
    assert shelter_status.recorded_status(session, LAYER, KISHIWADA, OSHIBA) is None
    first = f'"{LAYER}:{KISHIWADA}-{OSHIBA}:real:0"'  # revision 0: nothing recorded yet

    opened = _change(session, catalog, {"status": "open", "evacuees": 12}, if_match=first)

    assert opened.etag == f'"{LAYER}:{KISHIWADA}-{OSHIBA}:real:1"'
    assert (opened.status, opened.evacuees, opened.accepting) == ("open", 12, True)
    assert opened.opened_at == opened.updated_at and opened.closed_at is None
    now = shelter_status.current(session, LAYER, KISHIWADA)[(KISHIWADA, OSHIBA)]
    assert now == opened
    assert opened.as_properties()["status"] == "open"
    assert opened.as_properties()["statusUpdated"] is not None


def test_a_patch_keeps_what_it_does_not_name_and_closing_keeps_the_opening_time(session, catalog):
    opened = _change(session, catalog, {"status": "open", "capacity": 100, "evacuees": 10})
    counted = _change(session, catalog, {"evacuees": 70})
    closed = _change(session, catalog, {"status": "closed"})

    assert (counted.status, counted.capacity, counted.evacuees) == ("open", 100, 70)
    assert counted.crowding == "crowded"
    assert counted.opened_at == opened.opened_at
    assert closed.closed_at is not None and closed.opened_at == opened.opened_at
    assert closed.crowding == "unknown"  # a closed site takes no one in: no crowding to tell
    events = shelter_status.timeline(session, LAYER, KISHIWADA, OSHIBA)
    assert [(e.revision, e.status, e.evacuees) for e in events] == [
        (1, "open", 10),
        (2, "open", 70),
        (3, "closed", 70),
    ]
    assert all(e.actor == "staff:duty@example.jp" for e in events)


def test_a_replacement_resets_what_it_does_not_name(session, catalog):
    _change(session, catalog, {"status": "open", "evacuees": 10, "accepting": False})
    replaced = _change(session, catalog, {"status": "open"}, replace=True)
    assert (replaced.evacuees, replaced.accepting) == (None, True)
    with pytest.raises(InvalidParameter, match="needs a status"):
        _change(session, catalog, {"evacuees": 3}, replace=True)


def test_if_match_must_name_the_current_state(session, catalog):
    first = _change(session, catalog, {"status": "open"})
    second = _change(session, catalog, {"evacuees": 5}, if_match=first.etag)

    with pytest.raises(PreconditionFailed) as failed:
        _change(session, catalog, {"evacuees": 9}, if_match=first.etag)
    assert failed.value.status == 412
    assert failed.value.headers["ETag"] == second.etag
    with pytest.raises(PreconditionFailed):
        _change(session, catalog, {"evacuees": 9}, if_match=f"W/{second.etag}")  # weak: never
    with pytest.raises(PreconditionRequired) as required:
        _change(session, catalog, {"evacuees": 9}, require_if_match=True)
    assert required.value.status == 428
    assert _change(session, catalog, {"evacuees": 9}, if_match="*").revision == 3
    assert len(shelter_status.timeline(session, LAYER, KISHIWADA, OSHIBA)) == 3


def test_a_retried_change_gets_the_first_result_and_makes_no_second_event(session, catalog):
    change_id = uuid.uuid4()
    first = _change(session, catalog, {"status": "open"}, change_id=change_id)
    again = _change(session, catalog, {"status": "open"}, change_id=change_id, if_match='"old"')
    assert again == first
    later = _change(session, catalog, {"evacuees": 4})
    replayed = _change(session, catalog, {"status": "open"}, change_id=change_id)
    assert (replayed.revision, replayed.evacuees) == (1, None)  # still the first answer
    assert later.revision == 2
    assert len(shelter_status.timeline(session, LAYER, KISHIWADA, OSHIBA)) == 2


def test_modes_are_apart_and_drill_never_shows_as_real(session, catalog):
    _change(session, catalog, {"status": "open"}, mode="drill")
    assert shelter_status.current(session, LAYER, KISHIWADA) == {}
    drill = shelter_status.current(session, LAYER, KISHIWADA, mode="drill")
    assert drill[(KISHIWADA, OSHIBA)].as_properties()["mode"] == "drill"
    assert shelter_status.recorded_status(session, LAYER, KISHIWADA, OSHIBA) is None
    with pytest.raises(InvalidParameter, match="mode"):
        _change(session, catalog, {"status": "open"}, mode="exercise")


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "opened"},
        {"evacuees": -1},
        {"evacuees": "12"},
        {"capacity": 0},
        {"accepting": "no"},
        {"note": "x" * 501},
        {"geometry": None},
    ],
)
def test_wrong_fields_are_refused_in_both_languages(session, catalog, fields):
    with pytest.raises(InvalidParameter) as refused:
        _change(session, catalog, fields)
    assert refused.value.message_ja and refused.value.message_en


def test_only_published_sites_of_the_site_layers_have_a_status(session, catalog):
    with pytest.raises(NotFound):
        shelter_status.change(session, catalog, "x", LAYER, KISHIWADA, "E0000000000000", {})
    with pytest.raises(NotFound):
        shelter_status.change(session, catalog, "x", "aed", KISHIWADA, "1", {"status": "open"})
    with pytest.raises(NotFound):
        shelter_status.parse_item_id("aed:272027-1")


def test_every_change_is_audited_and_history_cannot_be_edited(session, catalog):
    _change(session, catalog, {"status": "open"})
    audited = session.execute(
        text("SELECT actor, detail->>'site' FROM audit_log WHERE action = 'status_change'")
    ).all()
    assert [tuple(row) for row in audited] == [("staff:duty@example.jp", OSHIBA)]
    for statement in (
        "UPDATE shelter_status_event SET status = 'closed'",
        "DELETE FROM shelter_status_event",
    ):
        with pytest.raises(DBAPIError, match="insert-only"), session.begin_nested():
            session.execute(text(statement))


def test_change_many_changes_every_site_at_once(session, catalog):
    keys = [OSHIBA, "E2720200003202"]
    changed = shelter_status.change_many(
        session, catalog, "staff:x", LAYER, KISHIWADA, keys, {"status": "open"}, mode="real"
    )
    assert [s.key for s in changed] == sorted(keys)
    with pytest.raises(NotFound):  # one site that is not published: none changes
        shelter_status.change_many(
            session,
            catalog,
            "staff:x",
            LAYER,
            KISHIWADA,
            [*keys, "E0000000000000"],
            {"status": "closed"},
            mode="real",
        )
    now = shelter_status.current(session, LAYER, KISHIWADA)
    assert {s.status for s in now.values()} == {"open"}


def test_the_board_lists_sites_with_hazards_district_and_status(session, catalog):
    _change(session, catalog, {"status": "open"})
    sites = shelter_status.board_sites(session, catalog, KISHIWADA)
    layers = {s.layer for s in sites}
    assert layers == {"evacuation_sites", "shelters"}
    oshiba = next(s for s in sites if s.key == OSHIBA and s.layer == LAYER)
    assert oshiba.hazards == ("storm_surge", "tsunami")
    assert oshiba.status is not None and oshiba.status.status == "open"
    assert oshiba.name.startswith("大芝小学校")
    flood = shelter_status.board_sites(session, catalog, KISHIWADA, hazard="flood")
    assert flood and all("flood" in s.hazards for s in flood)
    assert OSHIBA not in {s.key for s in flood}


def test_the_board_names_the_ward_a_site_lies_in(session, catalog):
    sites = shelter_status.board_sites(session, catalog, "271403")  # 堺市, seven wards
    wards = {s.district["ja"] for s in sites if s.district is not None}
    assert "堺市堺区" in wards and len(wards) == 7
    sakai_ku = shelter_status.board_sites(session, catalog, "271403", district="堺市堺区")
    assert sakai_ku and len(sakai_ku) < len(sites)


def test_a_new_file_version_keeps_the_status_of_the_sites_it_keeps(session, catalog, test_settings):
    publish_sites(session, test_settings, [Site("E2720299999001", "A", 135.37, 34.46, 50)])
    opened = shelter_status.change(
        session, catalog, "x", LAYER, KISHIWADA, "E2720299999001", {"status": "open"}
    )
    assert opened.capacity == 50  # the data's 想定収容人数
    publish_sites(session, test_settings, [Site("E2720299999001", "A", 135.371, 34.461, 50)])
    kept = shelter_status.recorded_status(session, LAYER, KISHIWADA, "E2720299999001")
    assert kept == opened


@pytest.mark.parametrize(
    ("evacuees", "capacity", "accepting", "level"),
    [(0, 100, True, "vacant"), (30, 100, True, "somewhat"), (80, 100, True, "full")],
)
def test_crowding_levels(evacuees, capacity, accepting, level):
    assert shelter_status.crowding(evacuees, capacity, accepting) == level
    assert shelter_status.CROWDING_LABELS[level]["ja"]


def _waiting_on_a_lock(engine) -> int:
    with engine.connect() as watch:  # a new transaction: pg_stat_activity is read once in one
        return int(
            watch.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        )


def test_one_change_id_sent_for_two_sites_at_once_is_a_409_not_a_500(scratch):
    """The id's first use is not committed when the second looks it up: the second waits on the
    unique index and then fails there, which must be the same 409 as when it comes later."""
    settings, engine = scratch
    first_site, second_site = (
        Site(f"E27202999970{i:02d}", f"避難所{i}", 135.37 + i / 1000, 34.46, 100) for i in (1, 2)
    )
    sessions = make_sessionmaker(engine)
    with sessions() as setup:
        publish_sites(setup, settings, [first_site, second_site])
    change_id, refused = uuid.uuid4(), []
    site = {"layer_id": LAYER, "municipality_code": KISHIWADA, "mode": "real", "revision": 1}
    fields = {"status": "open", "accepting": True, "evacuees": None, "capacity": None, "note": ""}

    def second_change() -> None:
        with sessions() as second:
            try:
                shelter_status.change(
                    second,
                    load_catalog(),
                    "staff:b",
                    LAYER,
                    KISHIWADA,
                    second_site.common_id,
                    {"status": "open"},
                    change_id=change_id,
                )
            except Exception as error:
                refused.append(error)

    with sessions() as first:
        status_db.record(
            first,
            site
            | fields
            | {"feature_key": first_site.common_id, "actor": "staff:a"}
            | {"change_id": change_id},
            opened_at=None,
            closed_at=None,
            opens=True,
            closes=False,
        )
        waiting = threading.Thread(target=second_change)
        waiting.start()
        wait_for(
            lambda: _waiting_on_a_lock(engine) or refused,
            what="the second change waiting on the change id's unique index",
        )
        first.commit()
        waiting.join(30)
    assert len(refused) == 1 and isinstance(refused[0], Conflict), refused
