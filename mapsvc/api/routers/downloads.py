"""Whole-layer downloads: GeoJSON, CSV for Excel, GeoPackage."""

from __future__ import annotations

import shutil
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from mapsvc.api.caching import cache_headers, etag_for
from mapsvc.api.deps import LayerDep, SessionDep
from mapsvc.api.params import reject_unknown
from mapsvc.api.ratelimit import download_limit
from mapsvc.db import downloads as sql
from mapsvc.errors import NotFound
from mapsvc.services.downloads import csv_chunks, geojson_chunks, write_geopackage
from mapsvc.services.features import resolve_municipality

router = APIRouter(
    prefix="/api/collections/{layer}", tags=["downloads"], dependencies=[Depends(download_limit)]
)

MEDIA = {"geojson": "application/geo+json", "csv": "text/csv; charset={charset}",
         "gpkg": "application/geopackage+sqlite3"}  # fmt: skip


@router.get(
    "/download.{fmt}",
    response_model=None,
    responses={
        200: {
            "description": "the layer's data",
            "content": {
                "application/geo+json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/geopackage+sqlite3": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
def download(
    request: Request,
    session: SessionDep,
    layer: LayerDep,
    fmt: Literal["geojson", "csv", "gpkg"],
    municipality: Annotated[str | None, Query(description="one municipality's data only")] = None,
    encoding: Annotated[
        Literal["utf-8", "cp932"], Query(description="CSV only: cp932 for old Excel")
    ] = "utf-8",
) -> StreamingResponse | FileResponse:
    """The layer's published data (or one municipality's), with its licence and update date."""
    reject_unknown(request, {"municipality", "encoding"})
    etag = etag_for(request, session, [layer.id])
    owner = resolve_municipality(session, municipality)[0] if municipality else None
    updated = sql.updated(session, layer.id)
    if updated is None:
        raise NotFound(
            "このレイヤーにはまだ公開データがありません", f"No published data in {layer.id}"
        )
    name = f"{layer.id}{'_' + owner if owner else ''}.{fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Link": f'<{layer.source.license.url}>; rel="license"',
        "Last-Modified-Data": updated,
        "X-Attribution": layer.source.attribution.en,
    }
    sessions = request.app.state.sessionmaker
    if fmt == "gpkg":
        path = write_geopackage(sessions, layer, owner)
        response: StreamingResponse | FileResponse = FileResponse(
            path, media_type=MEDIA["gpkg"], headers=headers,
            background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True))  # fmt: skip
    elif fmt == "csv":
        media = MEDIA["csv"].format(charset="shift_jis" if encoding == "cp932" else "utf-8")
        response = StreamingResponse(
            csv_chunks(sessions, layer, owner, encoding), media_type=media, headers=headers
        )
    else:
        response = StreamingResponse(
            geojson_chunks(sessions, layer, owner), media_type=MEDIA["geojson"], headers=headers
        )
    return cache_headers(response, etag)  # type: ignore[return-value]
