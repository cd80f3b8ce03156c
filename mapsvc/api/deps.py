"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Request

from layers import Catalog, LayerDefinition
from mapsvc.services.keys import Principal, auth_secret, authenticate, presented_key
from mapsvc.services.session import Session
from mapsvc.settings import Settings


def _sessionmaker_for(app: FastAPI, path: str) -> Any:
    """The primary's pool for ``path``: a front end's own, or the shared one.

    A front end with its own (``sessionmakers_by_prefix``) never takes the others' connections.
    """
    for prefix, maker in getattr(app.state, "sessionmakers_by_prefix", {}).items():
        if path.startswith(prefix):
            return maker
    return app.state.sessionmaker


def get_session(request: Request) -> Iterator[Session]:
    """A session per request on the primary, closed after the response."""
    with _sessionmaker_for(request.app, request.url.path)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_read_session(request: Request, primary: SessionDep) -> Iterator[Session]:
    """Public reads: a replica that has replayed the latest publish, else the primary's session.

    The primary's session opens no connection unless it is used.
    """
    replica = _current_replica(request.app)
    if replica is None:
        yield primary
        return
    with replica:
        yield replica


def _current_replica(app: FastAPI) -> Session | None:
    replicas = getattr(app.state, "replicas", None)
    if replicas is None:
        return None
    session: Session | None = replicas.open_session(app.state.publications.primary_lsn())
    return session


@contextmanager
def read_session_outside_routes(app: FastAPI) -> Iterator[Session]:
    """A read-only session for code that runs without FastAPI's solving.

    A replica's, else one on the primary that runs each statement on its own
    (``make_read_sessionmaker``); in tests, the session that overrides ``get_session``.
    """
    replica = _current_replica(app)
    override = app.dependency_overrides.get(get_session)
    if replica is None and override is not None:
        yield override()
        return
    with replica if replica is not None else app.state.read_sessionmaker() as session:
        yield session


@contextmanager
def session_outside_routes(app: FastAPI, path: str = "") -> Iterator[Session]:
    """A session for middleware: the one routes get (``get_session``, or its test override)."""
    override = app.dependency_overrides.get(get_session)
    if override is not None:
        yield override()
        return
    with _sessionmaker_for(app, path)() as session:
        yield session


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_catalog(request: Request) -> Catalog:
    """The layer catalog loaded at start-up."""
    catalog: Catalog = request.app.state.catalog
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]


async def get_layer(
    catalog: CatalogDep, layer_id: Annotated[str, Path(alias="layer")]
) -> LayerDefinition:
    """Resolve the path's layer id to its catalog entry (the catalog's LayerNotFound: 404)."""
    return catalog[layer_id]


def get_principal(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="Bearer msk_…")] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """The principal of the request's API key (``Authorization: Bearer`` or ``X-API-Key``).

    A dataset write was checked before its body was read (``key_gate.ApiKeyGate``): that
    principal is reused.
    """
    checked: Principal | None = getattr(request.state, "principal", None)
    if checked is not None:
        return checked
    key = presented_key(authorization, x_api_key)
    return authenticate(session, auth_secret(request.app.state.settings), key)


ReadSessionDep = Annotated[Session, Depends(get_read_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LayerDep = Annotated[LayerDefinition, Depends(get_layer)]
