"""Which municipality publishes which layer: the coverage matrix, as JSON and as CSV."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mapsvc.api.caching import cache_headers, etag_for
from mapsvc.api.deps import CatalogDep, ReadSessionDep
from mapsvc.api.responses import FastJSONResponse
from mapsvc.services.coverage import coverage, coverage_csv, coverage_state

router = APIRouter(prefix="/api", tags=["coverage"])


@router.get("/coverage", response_class=FastJSONResponse)
def get_coverage(request: Request, session: ReadSessionDep, catalog: CatalogDep) -> Any:
    """Municipalities × layers: published counts and times, and the harvest's freshness."""
    etag = etag_for(request, session, list(catalog), variant=coverage_state(session))
    return cache_headers(FastJSONResponse(coverage(session, catalog)), etag)


@router.get(
    "/coverage.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def get_coverage_csv(request: Request, session: ReadSessionDep, catalog: CatalogDep) -> Response:
    """The same matrix as CSV for Excel: a row per municipality, a feature count per layer."""
    etag = etag_for(request, session, list(catalog), variant="csv")
    body = coverage_csv(coverage(session, catalog))
    response = Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="coverage.csv"'},
    )
    return cache_headers(response, etag)
