"""Read use cases: collections metadata and pages of published features as GeoJSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from importers.codes import InvalidCode, to_code6
from layers import CATEGORY_TITLES, LayerDefinition
from mapsvc.db import features, queries
from mapsvc.db.features import FeatureQuery
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.geo.crs import CRS84, SUPPORTED, OutputCrs


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


def collection(
    layer: LayerDefinition,
    publication: queries.Publication,
    extent: tuple[float, ...] | None,
    base: str,
) -> dict[str, Any]:
    """A layer as an OGC API collection, with its catalog entry for clients that want it.

    ``updated`` is when any municipality last published this layer (ISO 8601, null if never).
    """
    items = f"{base}/collections/{layer.id}/items"
    body: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title.ja,
        "description": (layer.description.ja if layer.description else layer.title.en),
        "itemType": "feature",
        "crs": [crs.uri for crs in SUPPORTED],
        "storageCrs": CRS84,
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}/collections/{layer.id}"},
            {"rel": "items", "type": "application/geo+json", "href": items},
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                "type": "application/json",
                "href": f"{base}/collections/{layer.id}/tiles",
                "title": "Vector tiles (WebMercatorQuad)",
            },
            {
                "rel": "license",
                "type": "text/html",
                "href": str(layer.source.license.url),
                "title": layer.source.license.name,
            },
        ],
        "attribution": layer.source.attribution.ja,
        "numberPublished": publication.count,
        "updated": publication.updated.isoformat(timespec="seconds")
        if publication.updated
        else None,
        "layer": layer.model_dump(mode="json")
        | {"category_title": dict(zip(("ja", "en"), CATEGORY_TITLES[layer.category], strict=True))},
    }
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return body


def feature_page(
    session: Session, query: FeatureQuery, links: list[dict[str, str]], next_href: str
) -> FeaturePage:
    """An RFC 7946 FeatureCollection; geometry and properties pass through as PostGIS wrote them."""
    rows = features.select_page(session, query)
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "numberReturned": len(rows),
        "features": [
            {
                "type": "Feature",
                "id": feature_id,
                "geometry": orjson.Fragment(geometry),
                "properties": orjson.Fragment(properties),
            }
            for feature_id, geometry, properties in rows
        ],
    }
    matched = features.count_matched(session, query)
    if matched is not None:
        body["numberMatched"] = (
            max(matched, query.offset + len(rows))
            if len(rows) == query.limit
            else query.offset + len(rows)
        )
    more = len(rows) == query.limit and (matched is None or query.offset + len(rows) < matched)
    body["links"] = links + (
        [{"rel": "next", "type": "application/geo+json", "href": next_href}] if more else []
    )
    return FeaturePage(orjson.dumps(body), len(rows))


def feature_item(
    session: Session,
    layer: LayerDefinition,
    feature_id: str,
    crs: OutputCrs,
    links: list[dict[str, str]],
) -> bytes:
    """One feature as GeoJSON, or NotFound."""
    row = features.select_item(session, layer.id, feature_id, crs)
    if row is None:
        raise NotFound(
            "その地物はありません（公開が取り下げられた可能性があります）",
            f"No feature {feature_id!r}",
        )
    return orjson.dumps(
        {
            "type": "Feature",
            "id": row[0],
            "geometry": orjson.Fragment(row[1]),
            "properties": orjson.Fragment(row[2]),
            "links": links,
        }
    )
