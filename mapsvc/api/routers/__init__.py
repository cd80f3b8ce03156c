"""One router per resource."""

from mapsvc.api.routers import collections, datasets, health, municipalities, ogc, places

ROUTERS = (
    health.router,
    ogc.router,
    collections.router,
    places.router,
    municipalities.router,
    datasets.router,
)
