"""The application factory: ``uvicorn --factory mapsvc.app:create_app``."""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from layers import load_catalog
from mapsvc import __version__
from mapsvc.api.caching import publication_state
from mapsvc.api.errors import add_exception_handlers
from mapsvc.api.key_gate import ApiKeyGate
from mapsvc.api.metrics import GaugeValue, Metrics, note_route
from mapsvc.api.openapi30 import add_openapi_30
from mapsvc.api.ratelimit import RateLimiter
from mapsvc.api.routers import ROUTERS
from mapsvc.db.engine import (
    database_url,
    make_engine,
    make_read_sessionmaker,
    make_sessionmaker,
)
from mapsvc.db.errors import translate_database_errors
from mapsvc.db.publication_watch import PublicationWatch, psycopg_conninfo
from mapsvc.db.replicas import Replicas
from mapsvc.edge.body_size import BodySizeLimit
from mapsvc.edge.compression import Compression
from mapsvc.edge.credentials_first import CredentialsFirst
from mapsvc.edge.head_as_get import HeadAsGet
from mapsvc.edge.overload import Overload
from mapsvc.edge.request_hygiene import RequestHygiene
from mapsvc.edge.request_metrics import RequestMetrics
from mapsvc.edge.response_cache import ResponseCache
from mapsvc.edge.security_headers import SecurityHeaders
from mapsvc.edge.unexpected_errors import UnexpectedErrors
from mapsvc.services.publications import PublicationState
from mapsvc.services.slots import Slots
from mapsvc.services.upload_progress import UploadProgress
from mapsvc.settings import Settings
from mapsvc.staff import pages as staff_pages
from mapsvc.staff.access import StaffGate
from mapsvc.staff.routers import ROUTERS as STAFF_ROUTERS
from mapsvc.vendor import mount_vendor
from mapsvc.viewer_page import inline_script_hashes, mount_viewer_page

mimetypes.add_type("application/manifest+json", ".webmanifest")


def content_security_policy(web_dir: Path) -> str:
    """Our own scripts (the page's inline one by its hash) and data; images also from the tiles.

    The tile servers are exactly those of config.json's base maps and national hazard overlays.
    """
    config = web_dir / "config.json"
    viewer = json.loads(config.read_text("utf-8")) if config.exists() else {}
    tiles = [b["url"] for b in viewer.get("baseMaps", [])]
    tiles += [url for overlay in viewer.get("hazardOverlays", []) for url in overlay["urls"]]
    tile_origins = sorted({"{0.scheme}://{0.netloc}".format(urlsplit(url)) for url in tiles})
    scripts = " ".join(["'self'", *inline_script_hashes(web_dir)])
    return (
        f"default-src 'self'; img-src 'self' data: {' '.join(tile_origins)}; "
        f"style-src 'self'; script-src {scripts}; "
        "connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def _gauges(app: FastAPI) -> dict[str, GaugeValue]:
    """What /metrics reads at scrape time: the pool, the publication watch, the replicas."""
    engine = getattr(app.state, "engine", None)
    pool = engine.pool if engine is not None else None
    watch = getattr(app.state, "publications", None)
    replicas: Replicas | None = getattr(app.state, "replicas", None)
    health = replicas.health if replicas is not None else []
    return {
        "db_pool_in_use": pool.checkedout() if pool is not None else None,
        "db_pool_size": pool.size() if pool is not None else None,
        "db_pool_waiting": getattr(pool, "waiting", None),
        # None while the watch is off or reconnecting: then responses are not cached either.
        "publication_generation": watch.generation() if watch is not None else None,
        # A replica that does not answer has no lag to show (and takes no reads).
        "replica_lag_seconds": {h.name: h.lag_s for h in health if h.lag_s is not None},
    }


def _replicas(settings: Settings, primary: Engine) -> Replicas | None:
    """The configured read replicas, monitored; None without ``database.read_url``."""
    if settings.database.read_url is None:
        return None
    urls = [u.strip() for u in settings.database.read_url.get_secret_value().split(",")]
    replicas = Replicas(
        [u for u in urls if u], primary, settings.database, settings.database.replica_max_lag_s
    )
    replicas.start()
    return replicas


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; resources open in the lifespan and live on ``app.state``."""
    settings = settings or Settings()
    translate_database_errors()  # before the exception handlers are registered for them

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watch = None
        url = database_url(settings.database)
        engine = make_engine(url, settings.database)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.read_sessionmaker = make_read_sessionmaker(engine)
        app.state.upload_progress = UploadProgress(app.state.sessionmaker)
        downloads = make_engine(url, settings.database, pool_size=settings.api.concurrent_downloads)
        # The portal's own small pool: a sign-in flood never takes the residents' connections.
        staff = make_engine(url, settings.database, pool_size=settings.staff.pool_size)
        app.state.sessionmakers_by_prefix = {"/staff/": make_sessionmaker(staff)}
        # Sign-ins checked at once (each an Argon2 hash); the others wait without a thread.
        app.state.sign_in_places = asyncio.Semaphore(settings.staff.concurrent_hashes)
        app.state.download_sessions = make_sessionmaker(downloads)
        if settings.api.publication_watch:
            watch = PublicationWatch(psycopg_conninfo(url))
            watch.start()
        app.state.publications = PublicationState(watch)
        app.state.replicas = replicas = _replicas(settings, engine)
        yield
        if replicas is not None:
            replicas.stop()
        if watch is not None:
            watch.stop()
        downloads.dispose()
        staff.dispose()
        engine.dispose()

    # FastAPI's own /docs and /redoc pages load their scripts from a CDN, which the CSP below
    # refuses and an intranet cannot reach: /docs is served from web/docs/ with pinned assets.
    app = FastAPI(
        title="mapsvc",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(note_route)],
    )
    app.state.settings = settings
    app.state.catalog = load_catalog()
    app.state.download_limiter = RateLimiter(settings.api.downloads_per_minute)
    app.state.metrics = Metrics()
    app.state.metrics.add_gauges(lambda: _gauges(app))
    app.state.upload_slots = Slots(
        settings.imports.concurrent_uploads, settings.imports.upload_wait_s
    )
    for router in (*ROUTERS, *STAFF_ROUTERS):
        app.include_router(router)
    answer = add_exception_handlers(app, pages={"/staff/": staff_pages.error_page})
    add_openapi_30(app)
    # Innermost: a bug's 500 then passes every middleware below (logged, counted, headers).
    app.add_middleware(UnexpectedErrors, answer=answer)
    # Public, read-only data: any origin, no credentials.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"])
    app.add_middleware(CredentialsFirst, gates=[ApiKeyGate(), StaffGate()])
    app.add_middleware(
        BodySizeLimit,
        limit=settings.imports.max_upload_bytes,
        timeout_s=settings.imports.body_timeout_s,
    )
    app.add_middleware(HeadAsGet)
    # Low levels: at gzip level 6 compressing a large response cost more than the query.
    app.add_middleware(Compression, minimum_size=1024, compresslevel=3)
    # Inside the response cache: what is answered from memory is never shed nor timed out.
    app.add_middleware(
        Overload,
        max_in_flight=settings.api.max_in_flight,
        deadline_s=settings.api.read_deadline_s,
    )
    # Outside compression: a hit is sent as it was compressed the first time.
    app.add_middleware(
        ResponseCache,
        generation=lambda: publication_state(app).generation(),
        max_bytes=settings.api.response_cache_mb * 1024 * 1024,
        max_entry=settings.api.response_cache_entry_mb * 1024 * 1024,
    )

    if settings.trusted_proxies:
        # Forwarded headers count only from these peers: from anyone else they are the client's
        # own words (a fake X-Forwarded-For would dodge the download limit).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(RequestHygiene)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(settings.web_dir))

    mount_vendor(app, settings.vendor_dir, settings.web_dir)
    mount_viewer_page(app, settings.web_dir)
    app.mount("/staff/static", StaticFiles(directory=staff_pages.STATIC), name="staff-static")
    app.mount("/", StaticFiles(directory=settings.web_dir, html=True), name="web")
    return app
