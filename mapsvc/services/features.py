"""Read use cases: pages of a layer's published features, and single features, as GeoJSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import features
from mapsvc.db.features import FeatureQuery
from mapsvc.db.filters import to_condition
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.geo.crs import DEFAULT, OutputCrs, clip_box
from mapsvc.services import shelter_status
from mapsvc.services.cql2 import parse_filter
from mapsvc.services.cql2_types import check_types
from mapsvc.services.municipalities import resolve_scope
from mapsvc.services.publications import PublicationState, source_of
from mapsvc.services.shelter_status import STATUS_LAYERS

MAX_FEATURE_ID = 200  # characters: longer ids exist nowhere, so they are not even looked up


@dataclass(frozen=True, kw_only=True)
class ItemsRequest:
    """What a client asked of a layer's features, parsed and allow-listed but not yet resolved.

    ``bbox`` is in ``bbox_crs`` and in that CRS's axis order, as the client wrote it; ``limit``
    None takes the default; ``municipality`` is the code as given; ``filter`` is CQL2 text or
    JSON in ``filter_lang``, its coordinates in ``filter_crs``.
    """

    layer: LayerDefinition
    limit: int | None = None
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: OutputCrs = DEFAULT
    crs: OutputCrs = DEFAULT
    properties: tuple[str, ...] | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    municipality: str | None = None
    equals: Mapping[str, Any] = field(default_factory=dict)
    filter: str | None = None
    filter_lang: str | None = None
    filter_crs: OutputCrs = DEFAULT
    status_mode: str = "real"  # the sites' layers: whose status the items carry


@dataclass(frozen=True)
class PageLinks:
    """The links a page carries: the front end knows its URLs, the use case which to show."""

    self_href: str
    collection_href: str
    page_href: Callable[[int, int], str]  # (offset, limit) -> the URL of that page


def feature_query(
    session: Session, request: ItemsRequest, *, default_limit: int, max_limit: int
) -> FeatureQuery:
    """The database query for a request: limits enforced, axes in x/y, scope and filter resolved."""
    limit = request.limit or default_limit
    if limit > max_limit:
        raise InvalidParameter(
            f"limit は {max_limit} 以下にしてください", f"limit must be at most {max_limit}"
        )
    scope = resolve_scope(session, request.municipality)
    box = request.bbox
    if box is not None and request.bbox_crs.north_first:  # latitude (northing) first
        box = (box[1], box[0], box[3], box[2])
    nothing = False
    if box is not None and request.bbox_crs.srid != 4326:
        # Bound the work before any geometry is built: only the CRS's own area can match.
        box = clip_box(box, request.bbox_crs.srid)
        nothing = box is None
    condition = None
    if request.filter is not None:
        tree = parse_filter(request.filter, request.filter_lang)
        check_types(tree, request.layer, request.filter_crs)
        condition = to_condition(tree, request.layer, request.filter_crs)
    return FeatureQuery(
        layer_id=request.layer.id,
        limit=limit,
        offset=request.offset,
        bbox=box,
        bbox_srid=request.bbox_crs.srid,
        nothing=nothing,
        municipality_code=scope.owner,
        within_code=scope.ward,
        equals=dict(request.equals),
        sortby=request.sortby,
        properties=request.properties,
        crs=request.crs,
        condition=condition,
    )


def page_of_items(
    session: Session,
    request: ItemsRequest,
    *,
    links: PageLinks,
    default_limit: int,
    max_limit: int,
    publications: PublicationState,
) -> bytes:
    """One page as an RFC 7946 FeatureCollection; PostGIS's GeoJSON text passes through unparsed.

    Each feature carries its own ``municipality`` (who published it) and ``updated`` (when).
    """
    query = feature_query(session, request, default_limit=default_limit, max_limit=max_limit)
    rows = features.select_page(session, query)
    with_status = status_merger(session, request.layer.id, request.status_mode)
    sources = publications.sources(session, request.layer.id)
    # No timeStamp: OGC API Features makes it optional, and a stamp stops being true the moment
    # a cache (ours, a proxy's, a browser's) serves the response again.
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "numberReturned": len(rows),
        "features": [
            {
                "type": "Feature",
                "id": feature_id,
                "geometry": orjson.Fragment(geometry),
                "properties": orjson.Fragment(with_status(feature_id, properties)),
                **source_of(sources, feature_id),
            }
            for feature_id, geometry, properties in rows
        ],
    }
    matched = features.count_matched(session, query)
    full = len(rows) == query.limit
    if matched is not None:
        body["numberMatched"] = (
            max(matched, query.offset + len(rows)) if full else query.offset + len(rows)
        )
    body["links"] = _page_links(
        links, query, more=full and (matched is None or query.offset + len(rows) < matched)
    )
    return orjson.dumps(body)


def status_merger(session: Session, layer_id: str, mode: str) -> Callable[[str, str], str]:
    """What adds a site's status to its properties (JSON text), by feature id.

    Only the sites' layers, and only sites with a status recorded in ``mode``: elsewhere the
    properties pass through untouched (no status is claimed where none was published).
    """
    if layer_id not in STATUS_LAYERS:
        return lambda _, properties: properties
    statuses = shelter_status.current(session, layer_id, mode=mode)

    def merge(feature_id: str, properties: str) -> str:
        code, _, key = feature_id.partition("-")
        status = statuses.get((code, key))
        if status is None:
            return properties
        return orjson.dumps(orjson.loads(properties) | status.as_properties()).decode()

    return merge


def _page_links(links: PageLinks, query: FeatureQuery, *, more: bool) -> list[dict[str, str]]:
    geojson = "application/geo+json"
    result = [
        {"rel": "self", "type": geojson, "href": links.self_href},
        {"rel": "collection", "type": "application/json", "href": links.collection_href},
    ]
    if query.offset:
        previous = links.page_href(max(0, query.offset - query.limit), query.limit)
        result.append({"rel": "prev", "type": geojson, "href": previous})
    if more:
        next_page = links.page_href(query.offset + query.limit, query.limit)
        result.append({"rel": "next", "type": geojson, "href": next_page})
    return result


def one_item(
    session: Session,
    layer: LayerDefinition,
    feature_id: str,
    *,
    crs: OutputCrs,
    links: PageLinks,
    publications: PublicationState,
    status_mode: str = "real",
) -> bytes:
    """One feature by its stable id (``<municipality>-<source ID>``) as GeoJSON, or NotFound."""
    row = None
    if len(feature_id) <= MAX_FEATURE_ID:
        row = features.select_item(session, layer.id, feature_id, crs=crs)
    if row is None:
        raise NotFound(
            "その地物はありません（公開が取り下げられた可能性があります）",
            f"No feature {feature_id[:40]!r}",
        )
    return orjson.dumps(
        {
            "type": "Feature",
            "id": row[0],
            "geometry": orjson.Fragment(row[1]),
            "properties": orjson.Fragment(
                status_merger(session, layer.id, status_mode)(row[0], row[2])
            ),
            **source_of(publications.sources(session, layer.id), row[0]),
            "links": [
                {"rel": "self", "type": "application/geo+json", "href": links.self_href},
                {"rel": "collection", "type": "application/json", "href": links.collection_href},
            ],
        }
    )
