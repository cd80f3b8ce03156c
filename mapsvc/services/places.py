"""Point questions residents ask: what is nearest (see ``here`` for what applies at a spot)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import places
from mapsvc.errors import InvalidParameter
from mapsvc.services.publications import PublicationState, source_of

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
    """The ``limit`` nearest published features of ``layer`` matching ``equals``, from ``spot``."""

    layer: LayerDefinition
    spot: Spot
    limit: int = 5
    equals: Mapping[str, Any] = field(default_factory=dict)


def nearest_collection(
    session: Session, request: NearestRequest, publications: PublicationState
) -> bytes:
    """GeoJSON of the nearest features, each with ``distance_m`` (geodesic, metres).

    Each also carries its own ``municipality`` and ``updated`` members, as items do.
    """
    layer, lon, lat = request.layer, request.spot.lon, request.spot.lat
    rows = places.nearest(
        session, layer.id, lon=lon, lat=lat, limit=request.limit, equals=dict(request.equals)
    )
    sources = publications.sources(session, layer.id)
    features = []
    for feature_id, geometry, properties, distance, _ in rows:
        body = orjson.loads(properties)
        body["distance_m"] = round(float(distance), 1)
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
            "layer": layer.id,
            "from": [lon, lat],
        }
    )
