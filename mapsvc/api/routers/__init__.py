"""One router per resource."""

from mapsvc.api.routers import (
    collections,
    coverage,
    datasets,
    downloads,
    health,
    municipalities,
    ogc,
    places,
    sources,
    staff_admin,
    staff_auth,
    staff_datasets,
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
    coverage.router,
    datasets.router,
    sources.router,
    staff_auth.router,
    staff_datasets.router,
    staff_admin.router,
)
