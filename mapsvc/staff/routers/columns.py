"""The upload form's column-mapping screen: a file's headers, each with what it will become.

The page's script posts the chosen file (with the form's reading choices) here as soon as it is
chosen, and shows the answer inside the form; the mapping chosen there is sent with the upload
as its ``columns`` option, the same one the advanced JSON box fills.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from importers.options import IGNORE_COLUMN, KEEP_COLUMN
from mapsvc.api.deps import LayerDep, SettingsDep
from mapsvc.api.routers.datasets import upload_form
from mapsvc.errors import UploadRejected
from mapsvc.services.column_mapping import mapping_view
from mapsvc.services.slots import Slots
from mapsvc.services.uploads import UploadRequest
from mapsvc.services.versions import SourceFile
from mapsvc.staff.access import StaffDep, StaffMunicipality
from mapsvc.staff.pages import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.post(
    "/datasets/{layer}/{municipality}/columns",
    response_class=HTMLResponse,
    dependencies=[StaffMunicipality("upload")],  # whoever may upload there
)
def column_mapping(
    request: Request,
    settings: SettingsDep,
    layer: LayerDep,
    principal: StaffDep,
    file: Annotated[UploadFile, File()],
    options: Annotated[UploadRequest, Depends(upload_form)],
) -> Response:
    """The mapping screen for this file (an HTML fragment), or why the file cannot be read."""
    source = SourceFile(file.file.read(), file.filename or "upload", options.reading.format or "")
    slots: Slots = request.app.state.upload_slots
    try:
        with slots.held():  # reading a file is an upload's work: it waits for a slot too
            view = mapping_view(settings, layer=layer, source=source, request=options)
    except UploadRejected as rejected:
        return render(
            request,
            "column_mapping.html",
            status_code=422,
            principal=principal,
            view=None,
            problems=rejected.report["errors"],
        )
    return render(
        request,
        "column_mapping.html",
        principal=principal,
        view=view,
        problems=[],
        keep=KEEP_COLUMN,
        ignore=IGNORE_COLUMN,
    )
