"""The staff portal's routers, one per area."""

from mapsvc.staff.routers import admin, auth, board, columns, datasets, emergency, sources

ROUTERS = (
    auth.router,
    datasets.router,
    columns.router,
    sources.router,
    admin.router,
    board.router,
    emergency.router,
)
