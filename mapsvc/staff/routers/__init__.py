"""The staff portal's routers, one per area."""

from mapsvc.staff.routers import admin, auth, board, datasets, emergency

ROUTERS = (auth.router, datasets.router, admin.router, board.router, emergency.router)
