"""One router per resource of the JSON API (and its OGC and health pages)."""

from mapsvc.api.routers import (
    answer,
    collections,
    coverage,
    datasets,
    downloads,
    health,
    municipalities,
    ogc,
    places,
    sources,
    tiles,
)

ROUTERS = (
    health.router,
    ogc.router,
    ogc.docs_router,
    collections.router,
    places.router,
    answer.router,
    downloads.router,
    tiles.router,
    municipalities.router,
    coverage.router,
    datasets.router,
    sources.router,
)
