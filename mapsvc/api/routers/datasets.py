"""Municipal uploads: versions of a dataset, their reports, previews, publishing and rollback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from importers.codes import InvalidCode, to_code6
from mapsvc.api.deps import LayerDep, PrincipalDep, SessionDep, SettingsDep
from mapsvc.api.responses import FastJSONResponse
from mapsvc.errors import InvalidParameter
from mapsvc.preview import render_preview
from mapsvc.services import datasets, uploads
from mapsvc.services.keys import authorize
from mapsvc.services.slots import Slots
from mapsvc.services.uploads import UploadRequest
from mapsvc.services.versions import SourceFile

router = APIRouter(prefix="/api/datasets/{layer}/{municipality}", tags=["datasets"])
PREVIEW_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://cyberjapandata.gsi.go.jp; frame-ancestors 'self'"
)


def parse_code(value: str) -> str:
    """A path's municipality as a 6-digit code (400 if it is none)."""
    try:
        return to_code6(value)
    except InvalidCode:
        raise InvalidParameter(
            "市区町村コードが正しくありません", f"Invalid municipality code {value!r}"
        ) from None


def KeyMunicipality(action: str) -> Any:
    """The path's municipality as a 6-digit code, once the key's role may ``action`` there.

    The roles mean what they mean in the portal (``services.roles``): a 403 says why not.
    """

    def allowed(
        principal: PrincipalDep,
        municipality: Annotated[str, Path(description="6-digit local government code")],
    ) -> str:
        code = parse_code(municipality)
        authorize(principal, action, code)
        return code

    return Depends(allowed)


# Every dataset route takes the municipality through one of these: authorisation cannot be
# forgotten, and each route names the right it needs.
MunicipalityDep = Annotated[str, KeyMunicipality("view")]
UploadableDep = Annotated[str, KeyMunicipality("upload")]
PublishableDep = Annotated[str, KeyMunicipality("publish")]


class RollbackBody(BaseModel):
    """Which earlier version to go back to."""

    version_id: int


class TakeDownBody(BaseModel):
    """Why nothing of the dataset should be published any more."""

    reason: str = Field(min_length=1, max_length=2000)


async def upload_form(
    format: Annotated[
        str | None,
        Form(description="csv, xlsx, xls, ods, geojson, geojson_zip, shapefile, kml, gpkg, gtfs"),
    ] = None,
    encoding: Annotated[str | None, Form()] = None,
    crs: Annotated[
        str | None,
        Form(
            description="the coordinates' CRS: 6674, EPSG:6674, a URN or a name (JGD2011 zone VI)"
        ),
    ] = None,
    sheet: Annotated[str | None, Form()] = None,
    source_layer: Annotated[
        str | None, Form(alias="layer", description="GeoPackage layer or shapefile")
    ] = None,
    columns: Annotated[str | None, Form(description='JSON {"header": "attribute"}')] = None,
    where: Annotated[
        str | None,
        Form(description='rows to keep, JSON {"header": ["value", …]}: one file, several layers'),
    ] = None,
    data_date: Annotated[
        str | None, Form(description="when the data describes the world: 2015, 2026-04, 2026-04-01")
    ] = None,
    publish: Annotated[bool, Form()] = False,
    accept_partial: Annotated[bool, Form()] = False,
    town_positions: Annotated[
        bool,
        Form(description="place rows with an address but no coordinates at their town's centre"),
    ] = False,
) -> UploadRequest:
    """The upload's form fields as one request (the CLI's options build the same)."""
    return uploads.upload_request(
        format=format,
        encoding=encoding,
        crs=crs,
        sheet=sheet,
        source_layer=source_layer,
        columns=columns,
        where=where,
        data_date=data_date,
        publish=publish,
        accept_partial=accept_partial,
        town_positions=town_positions,
    )


@router.post("/versions", status_code=201, response_class=FastJSONResponse)
def upload_version(
    http: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    layer: LayerDep,
    municipality: UploadableDep,
    file: Annotated[UploadFile, File(description="the data file")],
    request: Annotated[UploadRequest, Depends(upload_form)],
) -> FastJSONResponse:
    """Upload a file as a new staged version (201), or get the report of why it was rejected (422).

    With ``publish=true`` the key must be a publisher's (or the prefecture's admin's).
    """
    if request.publish:
        authorize(principal, "publish", municipality)
    content = file.file.read()  # already bounded by the body-size limit
    source = SourceFile(content, file.filename or "upload", request.reading.format or "auto")
    slots: Slots = http.app.state.upload_slots
    with slots.held():
        result = uploads.upload(
            session,
            settings,
            layer=layer,
            municipality=municipality,
            source=source,
            request=request,
            actor=principal.actor,
        )
    return FastJSONResponse(
        result.version.as_json() | {"created": result.created},
        status_code=201 if result.created else 200,
    )


@router.get("/versions", response_class=FastJSONResponse)
def list_versions(
    request: Request,
    session: SessionDep,
    layer: LayerDep,
    municipality: MunicipalityDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The dataset's versions, newest first, a page at a time, with counts, status and who/when."""
    page = datasets.versions(session, layer.id, municipality, limit=limit + 1, offset=offset)
    links = []
    if len(page) > limit:
        following = request.url.include_query_params(limit=limit, offset=offset + limit)
        links.append({"rel": "next", "href": str(following)})
    return {
        "versions": [v.as_json(report=False) for v in page[:limit]],
        "links": links,
    }


@router.get("/versions/{version_id}", response_class=FastJSONResponse)
def get_version(
    session: SessionDep,
    layer: LayerDep,
    municipality: MunicipalityDep,
    version_id: int,
) -> dict[str, Any]:
    """One version with its full import report."""
    found = datasets.version(session, layer.id, municipality, version_id=version_id)
    return found.as_json()


@router.get("/versions/{version_id}/preview", response_class=HTMLResponse)
def preview_version(
    session: SessionDep,
    layer: LayerDep,
    municipality: MunicipalityDep,
    version_id: int,
) -> HTMLResponse:
    """A map of the version's features, rows with warnings in red, rows with errors listed."""
    features, report = datasets.preview_features(
        session, layer, municipality, version_id=version_id
    )
    html = render_preview(layer, features, report, leaflet_url="/vendor/leaflet")
    return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_CSP})


@router.post("/versions/{version_id}/publish", response_class=FastJSONResponse)
def publish_version(
    session: SessionDep,
    principal: PrincipalDep,
    layer: LayerDep,
    municipality: PublishableDep,
    version_id: int,
    accept_dropped_rows: Annotated[
        bool, Query(description="publish a version whose rows in error are left out")
    ] = False,
) -> dict[str, Any]:
    """Make this version the one residents see (the previous one is kept for rollback).

    A version staged without its rows in error is refused (409, naming the rows) unless
    ``accept_dropped_rows=true``.
    """
    published = datasets.publish_version(
        session,
        layer.id,
        municipality,
        version_id=version_id,
        actor=principal.actor,
        accept_dropped_rows=accept_dropped_rows,
    )
    return published.as_json()


@router.post("/rollback", response_class=FastJSONResponse)
def rollback(
    session: SessionDep,
    principal: PrincipalDep,
    layer: LayerDep,
    municipality: PublishableDep,
    body: RollbackBody,
) -> dict[str, Any]:
    """Go back to an earlier published version."""
    current = datasets.rollback_to(
        session, layer.id, municipality, version_id=body.version_id, actor=principal.actor
    )
    return current.as_json()


@router.post("/take-down", response_class=FastJSONResponse)
def take_down(
    session: SessionDep,
    principal: PrincipalDep,
    layer: LayerDep,
    municipality: PublishableDep,
    body: TakeDownBody,
) -> dict[str, Any]:
    """Stop publishing the dataset (the versions stay; publishing one again brings it back)."""
    retired = datasets.take_down(
        session, layer.id, municipality, reason=body.reason, actor=principal.actor
    )
    return {"taken_down_version_id": retired}


@router.get("/versions/{old}/diff/{new}", response_class=FastJSONResponse)
def diff(
    session: SessionDep,
    layer: LayerDep,
    municipality: MunicipalityDep,
    old: int,
    new: int,
) -> dict[str, Any]:
    """Added, removed and changed features between two versions, by the source's stable key."""
    return datasets.diff(session, layer, municipality, old=old, new=new)
