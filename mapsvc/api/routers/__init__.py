"""One router per resource."""

from mapsvc.api.routers import (
    collections,
    datasets,
    downloads,
    health,
    municipalities,
    ogc,
    places,
    tiles,
)

ROUTERS = (
    health.router,
    ogc.router,
    ogc.docs_router,
    collections.router,
    places.router,
    downloads.router,
    tiles.router,
    municipalities.router,
    datasets.router,
)
