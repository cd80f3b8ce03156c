"""Whole-layer downloads: GeoJSON, CSV for Excel, GeoPackage."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from mapsvc.api.caching import cache_headers, etag_for
from mapsvc.api.deps import LayerDep
from mapsvc.api.params import reject_unknown
from mapsvc.api.ratelimit import download_limit
from mapsvc.api.streaming import GuardedFile, GuardedStream
from mapsvc.services.downloads import DownloadRequest, prepare_download

router = APIRouter(
    prefix="/api/collections/{layer}", tags=["downloads"], dependencies=[Depends(download_limit)]
)


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
    layer: LayerDep,
    fmt: Literal["geojson", "csv", "gpkg"],
    municipality: Annotated[str | None, Query(description="one municipality's data only")] = None,
    encoding: Annotated[
        Literal["utf-8", "cp932"], Query(description="CSV only: cp932 for old Excel")
    ] = "utf-8",
) -> StreamingResponse | FileResponse:
    """The layer's published data (or one municipality's), with its licence and update date.

    Downloads read through their own small pool (``api.concurrent_downloads`` connections,
    one per stream): however many are in flight, however slowly they are read, the pool the
    other endpoints use stays free.
    """
    reject_unknown(request, {"municipality", "encoding"})
    sessions = request.app.state.download_sessions
    with sessions() as session:
        etag = etag_for(request, session, [layer.id])
        wanted = DownloadRequest(layer=layer, fmt=fmt, municipality=municipality, encoding=encoding)
        prepared = prepare_download(session, sessions, wanted)
    timeout = request.app.state.settings.api.download_send_timeout_s
    response: StreamingResponse | FileResponse
    if isinstance(prepared.body, Path):
        cleanup = BackgroundTask(shutil.rmtree, prepared.body.parent, ignore_errors=True)
        response = GuardedFile(
            prepared.body,
            media_type=prepared.media_type,
            headers=prepared.headers,
            background=cleanup,
            send_timeout_s=timeout,
        )
    else:
        response = GuardedStream(
            prepared.body,
            media_type=prepared.media_type,
            headers=prepared.headers,
            send_timeout_s=timeout,
        )
    return cache_headers(response, etag)  # type: ignore[return-value]
