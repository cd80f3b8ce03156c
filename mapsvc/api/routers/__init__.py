"""One router per resource."""

from mapsvc.api.routers import collections, health, municipalities

ROUTERS = (health.router, collections.router, municipalities.router)
