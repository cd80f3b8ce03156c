"""Point questions residents ask: what is nearest (see ``here`` for what applies at a spot)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import orjson
from sqlalchemy import Row
from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import places
from mapsvc.errors import InvalidParameter
from mapsvc.services.publications import PublicationState, Sources, source_of

JAPAN = (122.0, 20.0, 154.0, 46.0)


@dataclass(frozen=True)
class Spot:
    """A WGS84 longitude/latitude in Japan (checked: a swapped pair is the usual mistake)."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        if not (JAPAN[0] <= self.lon <= JAPAN[2] and JAPAN[1] <= self.lat <= JAPAN[3]):
            raise InvalidParameter(
                "日本国内の経度・緯度を指定してください（lon=経度, lat=緯度）",
                "Give a longitude/latitude in Japan (lon, lat: is the order swapped?)",
            )


@dataclass(frozen=True, kw_only=True)
class NearestRequest:
    """The ``limit`` nearest published features of ``layer`` matching ``equals``, from ``spot``.

    By ``availability`` those the layer says may be absent (``may_be_absent``: an AED on a fire
    engine) come after the others (see ``nearest_rows``); by ``distance`` only the distance counts
    (what a tap is on).
    """

    layer: LayerDefinition
    spot: Spot
    limit: int = 5
    equals: Mapping[str, Any] = field(default_factory=dict)
    order: Literal["availability", "distance"] = "availability"
    # Only sites their municipality reports open, for real (see ``open_sites``).
    open_only: bool = False


def nearest_rows(
    session: Session, request: NearestRequest
) -> list[Row[tuple[str, str, str, float, str]]]:
    """The nearest features' rows; by availability, the ``limit`` nearest always there first.

    Then those that may be absent, at most ``limit`` of them: where ``limit`` always-there ones
    were found, only those nearer than the last of them (the fire-engine AED in the next street is
    worth knowing of, not one farther than five that are always there).
    """
    layer, spot = request.layer, request.spot
    ask = partial(
        places.nearest,
        session,
        layer.id,
        lon=spot.lon,
        lat=spot.lat,
        limit=request.limit,
        equals=dict(request.equals),
        open_only=request.open_only,
    )
    if request.order == "distance" or not layer.may_be_absent:
        return list(ask())
    always = list(ask(flags=layer.may_be_absent, flagged=False))
    maybe = list(ask(flags=layer.may_be_absent, flagged=True))
    if len(always) == request.limit:
        maybe = [row for row in maybe if row[3] < always[-1][3]]
    return always + maybe


def nearest_collection(
    session: Session, request: NearestRequest, publications: PublicationState
) -> bytes:
    """GeoJSON of the nearest features, each with ``distance_m`` (geodesic, metres)."""
    rows = nearest_rows(session, request)
    return collection_json(request, rows, publications.sources(session, request.layer.id))


def collection_json(
    request: NearestRequest,
    rows: list[Row[tuple[str, str, str, float, str]]],
    sources: Sources,
    *,
    extra: list[dict[str, Any]] | None = None,
    members: dict[str, Any] | None = None,
) -> bytes:
    """The nearest rows as a FeatureCollection, ``extra`` properties per row, ``members`` added.

    Each feature also carries its own ``municipality`` and ``updated`` members, as items do.
    """
    features = []
    for i, (feature_id, geometry, properties, distance, _) in enumerate(rows):
        body = orjson.loads(properties)
        body["distance_m"] = round(float(distance), 1)
        body |= extra[i] if extra else {}
        features.append(
            {
                "type": "Feature",
                "id": feature_id,
                "geometry": orjson.Fragment(geometry),
                "properties": body,
                **source_of(sources, feature_id),
            }
        )
    return orjson.dumps(
        {
            "type": "FeatureCollection",
            "numberReturned": len(features),
            "features": features,
            "layer": request.layer.id,
            "from": [request.spot.lon, request.spot.lat],
            **(members or {}),
        }
    )
