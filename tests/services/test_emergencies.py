"""A municipality's disaster mode: one at a time, ended by a person, found by area."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mapsvc.errors import Conflict, InvalidParameter, NotFound
from mapsvc.services import emergencies
from mapsvc.services.shelter_status import HAZARDS

pytestmark = pytest.mark.db

KISHIWADA = "272027"
# 岸和田市 lies between about 135.33–135.50 E and 34.37–34.49 N.
OVER_KISHIWADA = (135.36, 34.44, 135.40, 34.47)
OVER_NORTH_OSAKA = (135.45, 34.80, 135.50, 34.85)


def _start(session, **options):
    return emergencies.start(
        session,
        "staff:chief",
        KISHIWADA,
        "flood",
        3,
        "避難所を開設しました",
        "Shelters are open",
        mode=options.get("mode", "real"),
    )


def test_an_emergency_starts_shows_in_its_area_and_ends(session):
    started = _start(session)
    assert (started.hazard, started.alert_level, started.ended_at) == ("flood", 3, None)
    assert [e.id for e in emergencies.active(session, bbox=OVER_KISHIWADA)] == [started.id]
    assert emergencies.active(session, bbox=OVER_NORTH_OSAKA) == []
    assert [e.id for e in emergencies.active(session, codes=[KISHIWADA])] == [started.id]
    assert emergencies.active(session, mode="drill") == []

    ended = emergencies.end(session, "staff:chief", KISHIWADA, mode="real")
    assert ended.ended_at is not None and ended.ended_by == "staff:chief"
    assert emergencies.active(session) == []
    actions = session.execute(
        text("SELECT action FROM audit_log WHERE action LIKE 'emergency_%' ORDER BY id")
    ).scalars()
    assert list(actions) == ["emergency_start", "emergency_end"]


def test_one_emergency_at_a_time_per_mode(session):
    _start(session)
    with pytest.raises(Conflict):
        _start(session)
    drill = _start(session, mode="drill")
    assert drill.mode == "drill"
    with pytest.raises(NotFound):
        emergencies.end(session, "x", "272035", mode="real")


@pytest.mark.parametrize(
    ("hazard", "level"), [("typhoon", 3), ("flood", 0), ("flood", 6), ("flood", True)]
)
def test_a_wrong_hazard_or_level_is_refused(session, hazard, level):
    with pytest.raises(InvalidParameter):
        emergencies.start(session, "x", KISHIWADA, hazard, level, "", "", mode="real")


def test_hazards_are_the_flags_of_the_evacuation_sites(catalog):
    flags = {a.name for a in catalog["evacuation_sites"].attributes if a.type == "flag"}
    assert set(HAZARDS) == flags - {"same_as_shelter"}
