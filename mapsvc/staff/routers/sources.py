"""Staff pages for a dataset's harvest source, and the administrator's list of every source.

A dataset's source page shows its health, sets it (after a dry run, "test this source"), lists
its fetch history and pauses, resumes or fetches it now.

The same use cases as ``mapsvc sources …`` and ``/api/datasets/{layer}/{code}/source``
(``harvest.manage``), and the same rights: a source publishes on its own, so saving, fetching
now or resuming one is a publisher's; testing or pausing one an editor's.
"""

from __future__ import annotations

import inspect
import math
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mapsvc.api.deps import CatalogDep, LayerDep, SessionDep, SettingsDep
from mapsvc.errors import InvalidParameter, MapsvcError, NotFound, UploadRejected
from mapsvc.services import municipalities, portal
from mapsvc.services.harvest import manage
from mapsvc.services.harvest.fetcher import FetchPolicy
from mapsvc.services.harvest.runs import KEEP_FETCHES
from mapsvc.services.harvest.sources import (
    DEFAULT_MAX_MOVE_M,
    DEFAULT_MAX_REMOVED_SHARE,
    UPLOAD_FIELDS,
    UPLOAD_FLAGS,
    SourceDefinition,
    source_definition,
)
from mapsvc.services.session import Session
from mapsvc.services.slots import Slots
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.settings import Settings
from mapsvc.staff.access import StaffAdminDep, StaffDep, StaffMunicipality
from mapsvc.staff.pages import language, render
from mapsvc.staff.routers.datasets import FORMATS
from mapsvc.staff.text import translate

router = APIRouter(prefix="/staff", include_in_schema=False)
PAGE = "/staff/datasets/{layer}/{code}/source"
DONE = ("saved", "paused", "resumed", "fetched", "discarded")

Viewable = Annotated[str, StaffMunicipality("view")]
Uploadable = Annotated[str, StaffMunicipality("upload")]
Publishable = Annotated[str, StaffMunicipality("publish")]
Field = Annotated[str, Form(max_length=2000)]


async def source_form(
    kind: Annotated[str, Form(max_length=10)] = "file",
    url: Field = "",
    reference: Field = "",
    pick_format: Field = "",
    pick_name: Field = "",
    pick_tag: Field = "",
    schedule: Annotated[str, Form(max_length=100)] = "daily",
    max_removed_percent: Annotated[str, Form(max_length=20)] = "",
    max_move_m: Annotated[str, Form(max_length=20)] = "",
    format: Field = "",
    encoding: Field = "",
    crs: Field = "",
    sheet: Field = "",
    source_layer: Field = "",
    columns: Field = "",
    where: Field = "",
    data_date: Field = "",
    accept_partial: Annotated[bool, Form()] = False,
    town_positions: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """What the clerk typed, as typed (shown again with the dry run's report or the error)."""
    return {k: v.strip() if isinstance(v, str) else v for k, v in locals().items()}


SourceForm = Annotated[dict[str, Any], Depends(source_form)]


def definition_of_form(settings: Settings, form: dict[str, Any]) -> SourceDefinition:
    """The checked source the form describes (InvalidParameter, ja/en, when a part is wrong)."""
    return source_definition(
        FetchPolicy.from_settings(settings),
        kind=form["kind"],
        url=form["url"],
        reference=form["reference"],
        pick_format=form["pick_format"],
        pick_name=form["pick_name"],
        pick_tag=form["pick_tag"],
        schedule=form["schedule"] or "daily",
        max_removed_share=_number(
            form["max_removed_percent"],
            DEFAULT_MAX_REMOVED_SHARE * 100,
            ("削除の上限", "The share removed"),
        )
        / 100,
        max_move_m=_number(
            form["max_move_m"], DEFAULT_MAX_MOVE_M, ("移動の上限", "The distance moved")
        ),
        options={name: form[name] for name in (*UPLOAD_FIELDS, *UPLOAD_FLAGS, "data_date")},
    )


def _number(text: str, default: float, what: tuple[str, str]) -> float:
    if not text:
        return default
    try:
        number = float(unicodedata.normalize("NFKC", text).replace(",", ""))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidParameter(f"{what[0]}は数で書いてください：{text}", f"{what[1]}: not a number")
    return number


def form_of_source(source: dict[str, Any] | None) -> dict[str, Any]:
    """The form filled in with a stored source (or the defaults for a new one)."""
    blank: dict[str, Any] = {
        name: p.default for name, p in inspect.signature(source_form).parameters.items()
    }
    if source is None:
        return blank | {
            "kind": "ckan",
            "schedule": "daily",
            "max_removed_percent": f"{DEFAULT_MAX_REMOVED_SHARE * 100:g}",
            "max_move_m": f"{DEFAULT_MAX_MOVE_M:g}",
        }
    pick = {f"pick_{k}": v for k, v in source["pick"].items()}
    stored: dict[str, Any] = (
        blank
        | {k: source[k] or "" for k in ("kind", "url", "reference", "schedule")}
        | pick
        | source["options"]
        | {
            "max_removed_percent": f"{source['max_removed_share'] * 100:g}",
            "max_move_m": f"{source['max_move_m']:g}",
        }
    )
    return stored


def _source_or_none(session: Session, layer_id: str, code: str) -> dict[str, Any] | None:
    try:
        return manage.show_source(session, layer_id, code)
    except NotFound:
        return None


def _page(
    request: Request,
    session: Session,
    principal: StaffPrincipal,
    layer: LayerDep,
    code: str,
    *,
    form: dict[str, Any] | None = None,
    tested: dict[str, Any] | None = None,
    error: MapsvcError | None = None,
    status_code: int = 200,
) -> Response:
    lang = language(request)
    source = _source_or_none(session, layer.id, code)
    done = request.query_params.get("done", "")
    report = tested["report"] if tested else None
    place = municipalities.get_municipality(session, code)
    return render(
        request,
        "source.html",
        principal=principal,
        status_code=status_code,
        layer_id=layer.id,
        code=code,
        title=layer.title.en if lang == "en" else layer.title.ja,
        municipality_name=place.name_en if lang == "en" else place.name_ja,
        source=source,
        form=form_of_source(source) | (form or {}),
        formats=FORMATS,
        tested=tested,
        report=report,
        issues=portal.issues(report, "all") if report else [],
        show="all",
        sort="row",
        csv_url=None,
        may_fix=False,
        error=(error.message_en if lang == "en" else error.message_ja) if error else "",
        notice=translate(f"source_{done}", lang) if done in DONE else "",
        may_publish=principal.may("publish", code),
        may_upload=principal.may("upload", code),
        history_kept=KEEP_FETCHES,
    )


@router.get("/datasets/{layer}/{municipality}/source", response_class=HTMLResponse)
def source_page(
    request: Request, session: SessionDep, layer: LayerDep, principal: StaffDep, code: Viewable
) -> Response:
    """The dataset's source: its health, the form to set or change it, its fetch history."""
    return _page(request, session, principal, layer, code)


@router.post("/datasets/{layer}/{municipality}/source/test", response_class=HTMLResponse)
def test_source(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Uploadable,
    form: SourceForm,
) -> Response:
    """Fetch the source as typed and check its file as an upload would, saving nothing."""
    slots: Slots = request.app.state.upload_slots
    try:
        with slots.held():
            tested = manage.dry_run(
                session,
                settings,
                layer=layer,
                municipality=code,
                definition=definition_of_form(settings, form),
            )
    except UploadRejected as rejected:
        tested = {"rejected": True, "report": rejected.report}
    except InvalidParameter as refused:
        return _page(
            request, session, principal, layer, code, form=form, error=refused, status_code=400
        )
    return _page(request, session, principal, layer, code, form=form, tested=tested)


@router.post("/datasets/{layer}/{municipality}/source", response_class=HTMLResponse)
def save_source(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Publishable,
    form: SourceForm,
) -> Response:
    """Set (or change) the dataset's source; it is due at once."""
    try:
        definition = definition_of_form(settings, form)
    except InvalidParameter as refused:
        return _page(
            request, session, principal, layer, code, form=form, error=refused, status_code=400
        )
    manage.set_source(
        session, layer=layer, municipality=code, definition=definition, actor=principal.actor
    )
    return _back(layer.id, code, "saved")


@router.post("/datasets/{layer}/{municipality}/source/run")
def fetch_now(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    layer: LayerDep,
    code: Publishable,
) -> Response:
    """Fetch the source now; its history's new line says how it went."""
    slots: Slots = request.app.state.upload_slots
    with slots.held():
        manage.run_now(session, settings, catalog, layer.id, code)
    return _back(layer.id, code, "fetched")


@router.post("/datasets/{layer}/{municipality}/source/pause")
def pause(session: SessionDep, layer: LayerDep, principal: StaffDep, code: Uploadable) -> Response:
    """Stop fetching (what is published stays)."""
    manage.pause_source(session, layer.id, code, paused=True, actor=principal.actor)
    return _back(layer.id, code, "paused")


@router.post("/datasets/{layer}/{municipality}/source/resume")
def resume(
    session: SessionDep, layer: LayerDep, principal: StaffDep, code: Publishable
) -> Response:
    """Fetch again (due at once)."""
    manage.pause_source(session, layer.id, code, paused=False, actor=principal.actor)
    return _back(layer.id, code, "resumed")


@router.post("/datasets/{layer}/{municipality}/source/discard")
def discard(
    session: SessionDep, layer: LayerDep, principal: StaffDep, code: Publishable
) -> Response:
    """Keep what is published; the fetched file that waited for a person is let go."""
    manage.discard(session, layer.id, code, actor=principal.actor)
    return _back(layer.id, code, "discarded")


def _back(layer_id: str, code: str, done: str) -> Response:
    return RedirectResponse(PAGE.format(layer=layer_id, code=code) + f"?done={done}", 303)


@router.get("/admin/sources", response_class=HTMLResponse)
def all_sources(
    request: Request, session: SessionDep, catalog: CatalogDep, principal: StaffAdminDep
) -> Response:
    """Every source of the prefecture and its health, those that need someone first."""
    found = manage.list_sources(session)
    found.sort(key=lambda s: (not s["flagged"], not s["needs_person"], s["municipality"]))
    names = {m["code"]: m for m in municipalities.list_municipalities(session)}
    return render(
        request,
        "admin_sources.html",
        principal=principal,
        sources=found,
        titles={layer.id: layer.title for layer in catalog.values()},
        names=names,
    )
