"""Staff pages for datasets: my datasets, upload, report, preview, publish and roll back.

Every page calls the same use cases as the JSON API (``uploads.upload``, ``datasets.*``); each
route takes its municipality through ``StaffMunicipality(action)``, which checks the role that
action needs (a 403 page says why).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from importers.crs import in_japan
from importers.edits import RowEdit
from layers import LayerDefinition
from layers.templates import has_template
from mapsvc.api.deps import CatalogDep, LayerDep, SessionDep, SettingsDep
from mapsvc.api.routers.datasets import parse_code, upload_form
from mapsvc.errors import InvalidParameter, UploadRejected
from mapsvc.services import datasets, municipalities, notices, portal, row_fixes, uploads
from mapsvc.services.session import Session
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.services.upload_progress import UploadProgress
from mapsvc.services.uploads import UploadRequest
from mapsvc.services.versions import SourceFile
from mapsvc.settings import Settings
from mapsvc.staff.access import StaffDep, StaffMunicipality, require, signed_in
from mapsvc.staff.fix_queue import FixQueue, QueuedFix, keep_queue, read_queue
from mapsvc.staff.pages import language, render
from mapsvc.staff.reading import reading_file
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
    source = SourceFile(
        file.file.read(), file.filename or "upload", options.reading.format or "auto"
    )
    try:
        with reading_file(request, job) as checked:
            try:
                result = uploads.upload(
                    session,
                    settings,
                    layer=layer,
                    municipality=code,
                    source=source,
                    request=options,
                    actor=principal.actor,
                    progress=checked,
                )
            except UploadRejected as rejected:
                checked.finish(int(rejected.report.get("rows") or 0))
                raise
            checked.finish(result.version.feature_count)
    except UploadRejected as rejected:
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
            queue=FixQueue(),
            newest_version_id=None,
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
        "queued": translate("queued", lang),
    }.get(done, "")
    may_request = principal.may("request", code) and not principal.may("publish", code)
    may_fix = principal.may("upload", code) and found.status == "staged"
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
        may_fix=may_fix,
        may_request=may_request and found.status == "staged",
        requested=notices.requested(session, found.id),
        notice=notice,
        queue=read_queue(request) if may_fix else FixQueue(),
        newest_version_id=datasets.newest_version_id(session, layer.id, code),
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


def _version_page(layer: LayerDefinition, code: str, version_id: int) -> str:
    return f"/staff/datasets/{layer.id}/{code}/versions/{version_id}"


def _row_to_fix(
    request: Request,
    session: Session,
    settings: Settings,
    layer: LayerDefinition,
    code: str,
    version_id: int,
    row: int,
) -> row_fixes.RowToFix:
    with reading_file(request):  # reading the file again is an upload's work: it waits its turn
        return row_fixes.row_to_fix(
            session, settings, layer=layer, municipality=code, version_id=version_id, row=row
        )


@router.get("/datasets/{layer}/{municipality}/versions/{version_id}/rows/{row}")
def fix_row_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Uploadable,
    version_id: int,
    row: Annotated[int, Path(ge=1, le=10_000_000)],
) -> Response:
    """Fix one row: its name and address, what is wrong, and the fixes it can take.

    A fix joins the version's list of fixes; the list is applied together (one new version).
    """
    found = datasets.version(session, layer.id, code, version_id=version_id)
    facts = _row_to_fix(request, session, settings, layer, code, version_id, row)
    row_issues = [i for i in portal.issues(found.report, "all") if i.get("row") == row]
    cell_issue = next((i for i in row_issues if i.get("column") in facts.cells), None)
    column = cell_issue["column"] if cell_issue else ""
    return render(
        request,
        "fix_row.html",
        principal=principal,
        **_page_context(request, session, layer, code),
        version=found,
        row=row,
        facts=facts,
        row_issues=row_issues,
        centre=municipalities.inner_point(session, code),
        column=column,
        value=facts.cells.get(column, ""),
        queue=read_queue(request),
        newest_version_id=datasets.newest_version_id(session, layer.id, code),
    )


def _coordinates(lat: str, lon: str) -> tuple[float, float] | None:
    """(lon, lat) from the two boxes, both in Japan; None when both are blank."""
    if not lat.strip() and not lon.strip():
        return None
    try:
        latitude, longitude = (float(unicodedata.normalize("NFKC", t)) for t in (lat, lon))
    except ValueError:
        latitude = longitude = float("nan")
    if not in_japan(latitude, longitude):
        raise InvalidParameter(
            f"緯度・経度が正しくありません（緯度 {lat}、経度 {lon}）。緯度は20〜46、経度は122〜154の数値です",
            f"Not a valid latitude/longitude ({lat}, {lon}): latitude is 20-46, longitude 122-154",
        )
    return longitude, latitude


@router.post("/datasets/{layer}/{municipality}/versions/{version_id}/rows/{row}")
def queue_fix(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    code: Uploadable,
    version_id: int,
    row: Annotated[int, Path(ge=1, le=10_000_000)],
    lat: Annotated[str, Form(max_length=40)] = "",
    lon: Annotated[str, Form(max_length=40)] = "",
    column: Annotated[str, Form(max_length=200)] = "",
    value: Annotated[str, Form(max_length=2000)] = "",
    drop: Annotated[bool, Form()] = False,
    swap: Annotated[bool, Form()] = False,
    town_positions: Annotated[bool, Form()] = False,
) -> Response:
    """Add this row's fix to the version's list (nothing is read again yet); back to the report."""
    facts = _row_to_fix(request, session, settings, layer, code, version_id, row)
    fixes = []
    if drop:
        fixes.append(QueuedFix(RowEdit(row, drop=True)))
    if swap:
        if facts.swapped is None:
            raise InvalidParameter(
                "この行の緯度・経度は入れ替えても日本の範囲に入りません",
                "This row's latitude and longitude do not fit Japan swapped either",
            )
        fixes.append(QueuedFix(RowEdit(row, position=facts.swapped[::-1]), swap=True))
    elif (position := _coordinates(lat, lon)) is not None:
        fixes.append(QueuedFix(RowEdit(row, position=position)))
    if column and value != facts.cells.get(column):  # a column picked but left as it was: no fix
        if column not in facts.cells:
            raise InvalidParameter(
                f"このファイルに「{column}」という列はありません",
                f"This file has no column {column!r}",
            )
        fixes.append(QueuedFix(RowEdit(row, column=column, value=value)))
    if town_positions and facts.town is None:
        raise InvalidParameter(
            "この行の住所に合う町がないため、町の代表点に置けません",
            "No town matches this row's address: it cannot be placed at a town's centre",
        )
    if not fixes and not town_positions:
        raise InvalidParameter("直す内容が入力されていません", "Nothing to correct was entered")
    page = _version_page(layer, code, version_id)
    response = RedirectResponse(f"{page}?done=queued", status_code=303)
    queue = read_queue(request).adding(fixes, town_positions=town_positions)
    keep_queue(request, response, queue, page)
    return response


@router.post("/datasets/{layer}/{municipality}/versions/{version_id}/fixes/remove")
def unqueue_fix(
    request: Request,
    layer: LayerDep,
    code: Uploadable,
    version_id: int,
    index: Annotated[int, Form(ge=0, le=1000)],
) -> Response:
    """Take one fix off the version's list."""
    page = _version_page(layer, code, version_id)
    response = RedirectResponse(page, status_code=303)
    keep_queue(request, response, read_queue(request).removing(index), page)
    return response


@router.post("/datasets/{layer}/{municipality}/versions/{version_id}/fixes/apply")
def apply_fixes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    code: Uploadable,
    version_id: int,
    seen: Annotated[int, Form(ge=0, le=2**62)],
    job: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Read the stored file again with every listed fix: one new staged version, one audit entry.

    Refused, changing nothing, when another version was made since the page was shown, or when a
    fixed row still has an error.
    """
    queue = read_queue(request)
    if not len(queue):
        raise InvalidParameter("直す内容の一覧が空です", "The list of fixes is empty")
    with reading_file(request, job) as checked:
        result = uploads.revise(
            session,
            settings,
            layer=layer,
            municipality=code,
            version_id=version_id,
            edits=[dataclasses.replace(f.edit, by=principal.actor) for f in queue.fixes],
            actor=principal.actor,
            newest_seen=seen,
            town_positions=queue.town_positions,
            progress=checked,
        )
        checked.finish(result.version.feature_count)
    target = f"{_version_page(layer, code, result.version.id)}?done=revised"
    response = RedirectResponse(target, status_code=303)
    keep_queue(request, response, FixQueue(), _version_page(layer, code, version_id))
    return response


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
        link=settings.public_base() + page,  # MAPSVC_PUBLIC_URL, not the request's Host
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
