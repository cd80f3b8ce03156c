"""The staff portal's routers, one per area."""

from mapsvc.staff.routers import admin, auth, columns, datasets, sources

ROUTERS = (auth.router, datasets.router, columns.router, sources.router, admin.router)
