"""The staff portal's routers, one per area."""

from mapsvc.staff.routers import admin, auth, datasets, sources

ROUTERS = (auth.router, datasets.router, sources.router, admin.router)
