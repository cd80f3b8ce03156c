"""The application factory: ``uvicorn --factory mapsvc.app:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from layers import load_catalog
from mapsvc import __version__
from mapsvc.api.errors import add_exception_handlers
from mapsvc.api.limits import BodySizeLimit, HeadAsGet, SecurityHeaders
from mapsvc.api.openapi30 import add_openapi_30
from mapsvc.api.ratelimit import RateLimiter
from mapsvc.api.routers import ROUTERS
from mapsvc.db.engine import database_url, make_engine, make_sessionmaker
from mapsvc.settings import Settings

# Leaflet and our modules only; GSI's tiles are the one outside origin the page may load.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https://cyberjapandata.gsi.go.jp; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; resources open in the lifespan and live on ``app.state``."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url(settings.database), settings.database)
        app.state.sessionmaker = make_sessionmaker(engine)
        yield
        engine.dispose()

    app = FastAPI(title="mapsvc", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.catalog = load_catalog()
    app.state.download_limiter = RateLimiter(settings.api.downloads_per_minute)
    for router in ROUTERS:
        app.include_router(router)
    add_exception_handlers(app)
    add_openapi_30(app)
    # Public, read-only data: any origin, no credentials.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"])
    app.add_middleware(BodySizeLimit, limit=settings.imports.max_upload_bytes)
    app.add_middleware(HeadAsGet)
    # A low level: at level 6 compressing a large response cost more than the query.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=3)

    app.add_middleware(SecurityHeaders, csp=CONTENT_SECURITY_POLICY)

    leaflet = settings.vendor_dir / "leaflet" / "dist"
    if leaflet.is_dir():
        app.mount("/vendor/leaflet", StaticFiles(directory=leaflet), name="leaflet")
    app.mount("/", StaticFiles(directory=settings.web_dir, html=True), name="web")
    return app
