"""A layer's blank template (CSV or Excel) with the standard headers and one example row."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mapsvc.api.deps import LayerDep, SessionDep, SettingsDep
from mapsvc.api.params import reject_unknown
from mapsvc.services.templates import MEDIA_TYPES, layer_template

router = APIRouter(prefix="/api/collections/{layer}", tags=["downloads"])


@router.get(
    "/template.{fmt}",
    response_class=Response,
    responses={
        200: {"description": "the template", "content": {t: {} for t in MEDIA_TYPES.values()}}
    },
)
def template(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    fmt: Literal["csv", "xlsx"],
    municipality: Annotated[
        str | None, Query(description="the example row's municipality (default: the prefecture)")
    ] = None,
) -> Response:
    """The headers a municipality fills in for this layer, and one example row.

    The headers are the Digital Agency standard's where it has them; the template, filled in and
    uploaded, needs no column mapping. Point layers only: areas and lines come as GIS files.
    """
    reject_unknown(request, {"municipality"})
    found = layer_template(session, settings, layer=layer, fmt=fmt, municipality=municipality)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "public, max-age=3600",  # changes only with the catalog
        },
    )
