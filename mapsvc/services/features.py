"""Read use cases: pages of a layer's published features as GeoJSON."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy.orm import Session

from importers.codes import InvalidCode, to_code6
from mapsvc.db import queries
from mapsvc.db.queries import FeatureQuery
from mapsvc.errors import InvalidParameter, NotFound


@dataclass(frozen=True)
class FeaturePage:
    """GeoJSON bytes of one page, and how many features it holds."""

    body: bytes
    returned: int


def resolve_municipality(session: Session, value: str) -> tuple[str | None, str | None]:
    """(dataset owner, ward to clip to) for a ``municipality`` parameter (5 or 6 digits).

    Datasets belong to municipalities; a ward of a designated city filters its city's datasets
    by the ward's boundary, since residents think in wards.
    """
    try:
        code = to_code6(value)
    except InvalidCode:
        raise InvalidParameter(
            "municipality は6桁の全国地方公共団体コードで指定してください",
            f"municipality must be a 6-digit local government code, not {value!r}",
        ) from None
    municipality = queries.get_municipality(session, code)
    if municipality is None:
        raise NotFound("その市区町村はありません", f"No municipality {code}")
    if municipality.kind == "ward":
        return municipality.parent_code, code
    return code, None


def feature_page(session: Session, query: FeatureQuery, links: list[dict[str, str]]) -> FeaturePage:
    """An RFC 7946 FeatureCollection; geometry and properties pass through as PostGIS wrote them."""
    rows = queries.select_feature_page(session, query)
    features = [
        {
            "type": "Feature",
            "id": feature_id,
            "geometry": orjson.Fragment(geometry),
            "properties": orjson.Fragment(properties),
        }
        for feature_id, geometry, properties in rows
    ]
    next_links = (
        links if len(rows) == query.limit else [link for link in links if link["rel"] != "next"]
    )
    body = orjson.dumps(
        {
            "type": "FeatureCollection",
            "numberReturned": len(rows),
            "features": features,
            "links": next_links,
        }
    )
    return FeaturePage(body, len(rows))
