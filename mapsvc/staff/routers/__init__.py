"""The staff portal's routers, one per area."""

from mapsvc.staff.routers import admin, auth, datasets

ROUTERS = (auth.router, datasets.router, admin.router)
