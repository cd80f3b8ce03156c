"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy.orm import Session

from layers import Catalog, LayerDefinition
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.services.keys import Principal, auth_secret, authenticate
from mapsvc.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request, closed after the response."""
    with request.app.state.sessionmaker() as session:
        yield session


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_catalog(request: Request) -> Catalog:
    """The layer catalog loaded at start-up."""
    catalog: Catalog = request.app.state.catalog
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]


def get_layer(
    catalog: CatalogDep, layer_id: Annotated[str, Path(alias="layer")]
) -> LayerDefinition:
    """Resolve the path's layer id to its catalog entry, or 404."""
    if layer_id not in catalog:
        raise NotFound("そのレイヤーはありません", f"No layer {layer_id!r}")
    return catalog[layer_id]


def parse_bbox(
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS84)")] = None,
) -> tuple[float, float, float, float] | None:
    """Parse and bound-check ``bbox``."""
    if bbox is None:
        return None
    message = (
        "bbox は 最小経度,最小緯度,最大経度,最大緯度 の4つの数値で指定してください",
        f"bbox must be four numbers minLon,minLat,maxLon,maxLat, not {bbox!r}",
    )
    try:
        values = [float(v) for v in bbox.split(",")]
    except ValueError:
        raise InvalidParameter(*message) from None
    if len(values) != 4:
        raise InvalidParameter(*message)
    min_x, min_y, max_x, max_y = values
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise InvalidParameter(*message)
    return min_x, min_y, max_x, max_y


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="Bearer msk_…")] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """The principal of the request's API key (``Authorization: Bearer`` or ``X-API-Key``)."""
    key = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    return authenticate(session, auth_secret(request.app.state.settings), key)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LayerDep = Annotated[LayerDefinition, Depends(get_layer)]
BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(parse_bbox)]
