"""OGC API – Features: the landing page and the conformance declaration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from mapsvc.api.deps import SettingsDep
from mapsvc.api.responses import FastJSONResponse

router = APIRouter(prefix="/api", tags=["ogc"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    # Part 4 (1.0.0-draft.1), for the shelter_status collection: PATCH of an item, and strong
    # ETags with If-Match (412/428). Not create-replace-delete: sites come from their files,
    # so nothing is created or deleted through the API (PUT replaces a site's status only).
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
]


def _href(request: Request, name: str, **params: Any) -> str:
    return str(request.url_for(name, **params))


@router.get("", response_class=FastJSONResponse, name="landing")
@router.get("/", response_class=FastJSONResponse, include_in_schema=False)
def landing(request: Request) -> dict[str, Any]:
    """The API's entry point: links to its definition, conformance and data."""
    return {
        "title": "mapsvc — 広域デジタルマップ API",
        "description": "Every municipality's published layers as OGC API – Features collections.",
        "links": [
            {"rel": "self", "type": "application/json", "href": str(request.url)},
            {
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "href": _href(request, "openapi30"),
                "title": "OpenAPI 3.0",
            },
            {
                "rel": "service-doc",
                "type": "text/html",
                "href": str(request.base_url) + "docs",
                "title": "API docs",
            },
            {
                "rel": "conformance",
                "type": "application/json",
                "href": _href(request, "conformance"),
            },
            {"rel": "data", "type": "application/json", "href": _href(request, "collections")},
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                "type": "application/json",
                "href": _href(request, "tile_matrix_sets"),
            },
        ],
    }


@router.get("/conformance", response_class=FastJSONResponse, name="conformance")
def conformance() -> dict[str, list[str]]:
    """The conformance classes this API implements."""
    return {"conformsTo": CONFORMANCE}


# The page itself lives at the site's root, beside the viewer, not under /api.
docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/docs")
def docs(settings: SettingsDep) -> FileResponse:
    """The API reference page (the landing page's service-doc link), without a redirect."""
    return FileResponse(settings.web_dir / "docs" / "index.html", media_type="text/html")
