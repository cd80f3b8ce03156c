"""Staff pages for datasets: my datasets, upload, report, preview, publish and roll back.

Every page calls the same use cases as the JSON API (``uploads.upload``, ``datasets.*``); each
route takes its municipality through ``StaffMunicipality(action)``, which checks the role that
action needs (a 403 page says why).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from importers.edits import RowEdit
from layers import LayerDefinition
from layers.templates import has_template
from mapsvc.api.deps import CatalogDep, LayerDep, SessionDep, SettingsDep
from mapsvc.api.routers.datasets import parse_code, upload_form
from mapsvc.errors import InvalidParameter, UploadRejected
from mapsvc.services import datasets, municipalities, notices, portal, uploads
from mapsvc.services.session import Session
from mapsvc.services.slots import Slots
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.services.upload_progress import UploadProgress
from mapsvc.services.uploads import UploadRequest
from mapsvc.services.versions import SourceFile
from mapsvc.staff.access import StaffDep, StaffMunicipality, require, signed_in
from mapsvc.staff.pages import language, render
from mapsvc.staff.text import translate

router = APIRouter(prefix="/staff", include_in_schema=False)
FORMATS = (
    "csv",
    "xlsx",
    "xls",
    "ods",
    "geojson",
    "geojson_zip",
    "shapefile",
    "kml",
    "gpkg",
    "gtfs",
)

Viewable = Annotated[str, StaffMunicipality("view")]
Uploadable = Annotated[str, StaffMunicipality("upload")]
Requestable = Annotated[str, StaffMunicipality("request")]
Publishable = Annotated[str, StaffMunicipality("publish")]


async def chosen_municipality(principal: StaffDep, municipality: str = "") -> str | None:
    """The home page's ``?municipality=``, once the person may view it (None: their own)."""
    if not municipality:
        return None
    code = parse_code(municipality)
    require(principal, "view", code)
    return code


async def upload_options(
    principal: StaffDep,
    code: Uploadable,
    options: Annotated[UploadRequest, Depends(upload_form)],
) -> UploadRequest:
    """The upload's options, once the person may upload, and publish too when it asks to."""
    if options.publish:  # uploading and publishing in one step is a publisher's right too
        require(principal, "publish", code)
    return options


def _page_context(
    request: Request, session: Session, layer: LayerDefinition, code: str
) -> dict[str, Any]:
    lang = language(request)
    municipality = municipalities.get_municipality(session, code)
    return {
        "layer_id": layer.id,
        "code": code,
        "title": layer.title.en if lang == "en" else layer.title.ja,
        "municipality_name": municipality.name_en if lang == "en" else municipality.name_ja,
    }


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    principal: StaffDep,
    only: Annotated[str | None, Depends(chosen_municipality)],
) -> Response:
    """My datasets: every layer of each of my municipalities, gaps and stale data pointed out."""
    groups = portal.my_datasets(session, catalog, settings, principal, only=only)
    choices = portal.municipalities_for(session, principal) if principal.is_admin else []
    waiting = notices.notices_for(session, catalog, principal)
    return render(
        request, "home.html", principal=principal, groups=groups, choices=choices, notices=waiting
    )


@router.get("/progress/{job}", dependencies=[Depends(signed_in)])  # signed-in staff only
def upload_progress(request: Request, session: SessionDep, job: str) -> Response:
    """How many rows of an upload have been checked so far (``{"rows", "done"}``; 404: unknown)."""
    tracker: UploadProgress = request.app.state.upload_progress
    found = tracker.get(session, job)
    return Response(
        orjson.dumps(found), media_type="application/json", status_code=200 if found else 404
    )


@router.get("/datasets/{layer}/{municipality}", response_class=HTMLResponse)
def dataset_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Viewable,
    taken_down: bool = False,
) -> Response:
    """One dataset: the upload form (for editors) and its versions."""
    versions = datasets.versions_or_none(session, layer.id, code, limit=100)
    notice = translate("taken_down", language(request)) if taken_down else ""
    limit = settings.imports.max_upload_bytes
    return render(
        request,
        "dataset.html",
        principal=principal,
        **_page_context(request, session, layer, code),
        versions=versions,
        formats=FORMATS,
        may_publish=principal.may("publish", code),
        published=any(v.status == "published" for v in versions),
        may_upload=principal.may("upload", code),
        has_template=has_template(layer),
        max_bytes=limit,
        max_mb=limit // 2**20,
        notice=notice,
    )


@router.post("/datasets/{layer}/{municipality}/upload", response_class=HTMLResponse)
def upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Uploadable,
    file: Annotated[UploadFile, File()],
    options: Annotated[UploadRequest, Depends(upload_options)],
    job: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Read and check the file as a new staged version (then its report), or show why not.

    With a ``job`` id the page can poll ``/staff/progress/{job}`` while the rows are checked.
    """
    tracker: UploadProgress = request.app.state.upload_progress
    tracker.update(job, 0)
    source = SourceFile(
        file.file.read(), file.filename or "upload", options.reading.format or "auto"
    )
    slots: Slots = request.app.state.upload_slots
    try:
        with slots.held():
            result = uploads.upload(
                session,
                settings,
                layer=layer,
                municipality=code,
                source=source,
                request=options,
                actor=principal.actor,
                progress=lambda n: tracker.update(job, n),
            )
        tracker.update(job, result.version.feature_count, done=True)
    except UploadRejected as rejected:
        tracker.update(job, int(rejected.report.get("rows") or 0), done=True)
        show = "all"
        return render(
            request,
            "version.html",
            status_code=422,
            principal=principal,
            **_page_context(request, session, layer, code),
            version=None,
            filename=source.filename,
            report=rejected.report,
            show=show,
            sort="row",
            issues=portal.issues(rejected.report, show),
            csv_url=None,
            may_publish=False,
            may_fix=False,
            may_request=False,
            requested=False,
        )
    target = f"/staff/datasets/{layer.id}/{code}/versions/{result.version.id}"
    return RedirectResponse(target, status_code=303)


@router.get("/datasets/{layer}/{municipality}/versions/{version_id}", response_class=HTMLResponse)
def version_page(
    request: Request,
    session: SessionDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Viewable,
    version_id: int,
    show: str = "all",
    done: str = "",
    sort: str = "row",
    asked: Annotated[int, Query(ge=0, le=10_000)] = 0,
    mailed: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    """A version's report: counts, then errors and warnings (filterable), CSV, preview, publish."""
    found = datasets.version(session, layer.id, code, version_id=version_id)
    show = show if show in ("all", "errors", "warnings") else "all"
    sort = sort if sort in portal.SORTS else "row"
    lang = language(request)
    notice = {
        "published": translate("published_now", lang),
        "rolled_back": translate("rolled_back", lang, id=found.number),
        "revised": translate("revised", lang),
        "requested": translate("requested_now", lang, n=asked, mailed=mailed),
        "requested_none": translate("requested_none", lang),
        "requested_already": translate("requested_already", lang),
    }.get(done, "")
    may_request = principal.may("request", code) and not principal.may("publish", code)
    return render(
        request,
        "version.html",
        principal=principal,
        **_page_context(request, session, layer, code),
        version=found,
        report=found.report,
        show=show,
        sort=sort,
        issues=portal.issues(found.report, show, sort),
        csv_url=f"{request.url.path}/report.csv",
        may_publish=principal.may("publish", code),
        may_fix=principal.may("upload", code) and found.status == "staged",
        may_request=may_request and found.status == "staged",
        requested=notices.requested(session, found.id),
        notice=notice,
    )


@router.get("/datasets/{layer}/{municipality}/versions/{version_id}/report.csv")
def report_csv(session: SessionDep, layer: LayerDep, code: Viewable, version_id: int) -> Response:
    """The report for Excel (UTF-8 with BOM)."""
    found = datasets.version(session, layer.id, code, version_id=version_id)
    name = f"report-{layer.id}-{code}-v{found.id}.csv"
    return Response(
        portal.report_csv(found.report).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/datasets/{layer}/{municipality}/versions/{version_id}/map", response_class=HTMLResponse
)
def version_map_page(
    request: Request,
    session: SessionDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Viewable,
    version_id: int,
) -> Response:
    """The version on a map against what is published: added, changed, removed, flagged rows.

    The same facts are listed on the page for screen readers (and without script).
    """
    found = datasets.version(session, layer.id, code, version_id=version_id)
    changes = portal.version_changes(session, layer, code, found)  # the features are fetched by JS
    return render(
        request,
        "map.html",
        principal=principal,
        **_page_context(request, session, layer, code),
        version=found,
        diff=changes.diff,
        published_number=changes.current_number,
        flagged=changes.flagged_rows,
        centre=municipalities.inner_point(session, code),
    )


@router.get("/datasets/{layer}/{municipality}/versions/{version_id}/map.geojson")
def version_map_data(
    session: SessionDep, layer: LayerDep, code: Viewable, version_id: int
) -> Response:
    """What the map page draws (GeoJSON; each feature's status and whether its row is flagged)."""
    found = datasets.version(session, layer.id, code, version_id=version_id)
    changes = portal.version_changes(session, layer, code, found)
    return Response(
        orjson.dumps(portal.version_geojson(session, layer, changes)),
        media_type="application/geo+json",
    )


def _confirm(
    request: Request,
    session: Session,
    principal: StaffPrincipal,
    layer: LayerDefinition,
    code: str,
    version_id: int,
    what: str,
) -> Response:
    found = datasets.version(session, layer.id, code, version_id=version_id)
    lang = language(request)
    base = f"/staff/datasets/{layer.id}/{code}/versions/{found.id}"
    question = (
        translate("publish_confirm", lang, count=f"{found.feature_count:,}")
        if what == "publish"
        else translate("rollback_confirm", lang, id=found.number, count=f"{found.feature_count:,}")
    )
    preview = portal.publication_preview(session, layer, code, found) if what == "publish" else None
    return render(
        request,
        "confirm.html",
        principal=principal,
        title=translate(what, lang),
        question=question,
        preview=preview,
        action=f"{base}/{what}",
        back=base,
        yes=translate("yes_publish" if what == "publish" else "yes_rollback", lang),
    )


@router.get("/datasets/{layer}/{municipality}/versions/{version_id}/original")
def original_file(
    session: SessionDep, layer: LayerDep, code: Viewable, version_id: int
) -> Response:
    """The file as it was uploaded (corrections never change it)."""
    found = datasets.version(session, layer.id, code, version_id=version_id)
    name = quote(found.filename)
    return Response(
        datasets.original(session, found),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/datasets/{layer}/{municipality}/versions/{version_id}/rows/{row}")
def fix_row_page(
    request: Request,
    session: SessionDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Uploadable,
    version_id: int,
    row: int,
) -> Response:
    """Correct one row: place it on the map, correct a cell, or leave it out."""
    found = datasets.version(session, layer.id, code, version_id=version_id)
    row_issues = [i for i in portal.issues(found.report, "all") if i.get("row") == row]
    editable = next((i for i in row_issues if i.get("column") and "/" not in i["column"]), None)
    return render(
        request,
        "fix_row.html",
        principal=principal,
        **_page_context(request, session, layer, code),
        version=found,
        row=row,
        row_issues=row_issues,
        centre=municipalities.inner_point(session, code),
        column=editable["column"] if editable else "",
        value=editable["value"] if editable and editable.get("value") is not None else "",
    )


def _coordinate(text: str, low: float, high: float, what: str) -> float | None:
    if not text.strip():
        return None
    try:
        number = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise InvalidParameter(f"{what}が正しくありません：{text}", f"Not a valid {what}: {text}")
    return number


@router.post("/datasets/{layer}/{municipality}/versions/{version_id}/rows/{row}")
def fix_row(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Uploadable,
    version_id: int,
    row: int,
    lat: Annotated[str, Form(max_length=40)] = "",
    lon: Annotated[str, Form(max_length=40)] = "",
    column: Annotated[str, Form(max_length=200)] = "",
    value: Annotated[str, Form(max_length=10_000)] = "",
    drop: Annotated[bool, Form()] = False,
) -> Response:
    """Check the stored file again with this row corrected: a new staged version."""
    latitude = _coordinate(lat, 20, 46, "緯度 (latitude)")
    longitude = _coordinate(lon, 122, 154, "経度 (longitude)")
    edits = []
    if drop:
        edits.append(RowEdit(row, drop=True, by=principal.actor))
    if latitude is not None and longitude is not None:
        edits.append(RowEdit(row, position=(longitude, latitude), by=principal.actor))
    if column.strip():
        edits.append(RowEdit(row, column=column.strip(), value=value, by=principal.actor))
    if not edits:
        raise InvalidParameter("直す内容が入力されていません", "Nothing to correct was entered")
    slots: Slots = request.app.state.upload_slots
    with slots.held():  # reading the file again is an upload's work: it waits for a slot too
        result = uploads.revise(
            session,
            settings,
            layer=layer,
            municipality=code,
            version_id=version_id,
            edits=edits,
            actor=principal.actor,
        )
    target = f"/staff/datasets/{layer.id}/{code}/versions/{result.version.id}?done=revised"
    return RedirectResponse(target, status_code=303)


@router.get("/datasets/{layer}/{municipality}/take-down", response_class=HTMLResponse)
def confirm_take_down(
    request: Request, session: SessionDep, layer: LayerDep, principal: StaffDep, code: Publishable
) -> Response:
    """Ask why, once, before nothing of the dataset is published any more."""
    return render(
        request,
        "take_down.html",
        principal=principal,
        **_page_context(request, session, layer, code),
    )


@router.post("/datasets/{layer}/{municipality}/take-down")
def take_down(
    session: SessionDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Publishable,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Take the dataset off the public map (audited with the reason; publishing again undoes it)."""
    datasets.take_down(session, layer.id, code, reason=reason, actor=principal.actor)
    return RedirectResponse(f"/staff/datasets/{layer.id}/{code}?taken_down=1", status_code=303)


@router.post("/datasets/{layer}/{municipality}/versions/{version_id}/request")
def request_publication(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Requestable,
    version_id: int,
) -> Response:
    """Ask the municipality's publishers to publish this version (a notice, and mail when set)."""
    page = f"/staff/datasets/{layer.id}/{code}/versions/{version_id}"
    made = notices.request_publication(
        session,
        settings,
        layer=layer,
        code=code,
        version_id=version_id,
        actor=principal.actor,
        link=str(request.url.replace(path=page, query="")),
    )
    done = (
        "requested_already"
        if made.already
        else "requested"
        if made.publishers
        else "requested_none"
    )
    target = f"{page}?done={done}&asked={len(made.publishers)}&mailed={made.mailed}"
    return RedirectResponse(target, status_code=303)


Step = Literal["publish", "rollback"]


@router.get("/datasets/{layer}/{municipality}/versions/{version_id}/{step}")
def confirm(
    request: Request,
    session: SessionDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Publishable,
    version_id: int,
    step: Step,
) -> Response:
    """Ask once before publishing a version, or going back to an earlier one."""
    return _confirm(request, session, principal, layer, code, version_id, step)


@router.post("/datasets/{layer}/{municipality}/versions/{version_id}/{step}")
def publish_or_roll_back(
    session: SessionDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Publishable,
    version_id: int,
    step: Step,
    accept_dropped_rows: Annotated[bool, Form()] = False,
) -> Response:
    """Publish the version, or an earlier one again: the public map shows it at once (audited).

    A version without its rows in error is published only when the box saying so is ticked.
    """
    if step == "publish":
        done = datasets.publish_version(
            session,
            layer.id,
            code,
            version_id=version_id,
            actor=principal.actor,
            accept_dropped_rows=accept_dropped_rows,
        )
    else:
        done = datasets.rollback_to(
            session, layer.id, code, version_id=version_id, actor=principal.actor
        )
    outcome = "published" if step == "publish" else "rolled_back"
    target = f"/staff/datasets/{layer.id}/{code}/versions/{done.id}?done={outcome}"
    return RedirectResponse(target, status_code=303)
