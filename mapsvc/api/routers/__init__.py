"""One router per resource."""

from mapsvc.api.routers import collections, datasets, health, municipalities

ROUTERS = (health.router, collections.router, municipalities.router, datasets.router)
