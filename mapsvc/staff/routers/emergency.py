"""A municipality's disaster mode: a publisher starts it (hazard, 警戒レベル, message ja/en) and ends it.

While it is on, the viewer shows its message to anyone looking at the municipality and puts
open shelters first (``services.emergencies``). Drill and test modes are kept apart from the
real one and marked on every screen.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mapsvc.api.deps import CatalogDep, SessionDep
from mapsvc.errors import InvalidParameter
from mapsvc.services import emergencies
from mapsvc.services.shelter_status import MODE_LABELS, check_mode
from mapsvc.staff.access import StaffDep
from mapsvc.staff.disaster import ModeDep, hazard_choices, hazard_label, municipality_name
from mapsvc.staff.pages import language, render
from mapsvc.staff.routers.datasets import Publishable
from mapsvc.staff.text import translate

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/emergency/{municipality}", response_class=HTMLResponse)
def emergency_page(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    principal: StaffDep,
    code: Publishable,
    mode: ModeDep,
    done: str = "",
) -> Response:
    """Whether disaster mode is on, with the form to start or end it."""
    lang = language(request)
    found = emergencies.active(session, codes=[code], mode=mode)
    return render(
        request,
        "emergency.html",
        principal=principal,
        code=code,
        mode=mode,
        municipality_name=municipality_name(request, session, code),
        active=found[0] if found else None,
        hazards=hazard_choices(catalog),
        modes=MODE_LABELS,
        hazard_label=lambda hazard: hazard_label(catalog, hazard, lang),
        notice=translate(f"emergency_{done}", lang) if done in ("started", "ended") else "",
    )


@router.post("/emergency/{municipality}/start")
def start(
    session: SessionDep,
    principal: StaffDep,
    code: Publishable,
    hazard: Annotated[str, Form(max_length=32)],
    message_ja: Annotated[str, Form(max_length=500)],
    message_en: Annotated[str, Form(max_length=500)],
    alert_level: Annotated[str, Form(max_length=4)] = "3",
    mode: Annotated[str, Form(max_length=8)] = "real",
) -> Response:
    """Turn disaster mode on for the municipality."""
    check_mode(mode)
    # isdecimal, not isdigit: "²" and "①" are digits that int() cannot read (it was a 500).
    if not alert_level.isdecimal():
        raise InvalidParameter(
            f"警戒レベルは 1 から 5 の整数です：{alert_level}",
            f"The alert level is an integer from 1 to 5, not {alert_level!r}",
        )
    emergencies.start(
        session,
        principal.actor,
        code,
        hazard,
        int(alert_level),
        message_ja.strip(),
        message_en.strip(),
        mode=mode,
    )
    return RedirectResponse(f"/staff/emergency/{code}?mode={mode}&done=started", status_code=303)


@router.post("/emergency/{municipality}/end")
def end(
    session: SessionDep,
    principal: StaffDep,
    code: Publishable,
    mode: Annotated[str, Form(max_length=8)] = "real",
) -> Response:
    """Turn it off again."""
    check_mode(mode)
    emergencies.end(session, principal.actor, code, mode=mode)
    return RedirectResponse(f"/staff/emergency/{code}?mode={mode}&done=ended", status_code=303)
