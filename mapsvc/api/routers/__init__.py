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
    shelter_status,
    sources,
    templates,
    tiles,
)

ROUTERS = (
    health.router,
    ogc.router,
    ogc.docs_router,
    shelter_status.router,  # before collections: its collection is not a catalog layer
    collections.router,
    places.router,
    answer.router,
    downloads.router,
    templates.router,
    tiles.router,
    municipalities.router,
    coverage.router,
    datasets.router,
    sources.router,
)
