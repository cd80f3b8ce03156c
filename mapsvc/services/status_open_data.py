"""Shelter status as open data: the ``shelter_status`` collection (OGC API – Features) and EEI's CSV.

Each item is one published site's state in one mode, at the site's point; ``datetime`` reads the
timeline (the state as it was at an instant; with an interval, the sites changed within it, as
they were at its end). Residents' mode is real: drill and test only when asked for, and each item
says its ``mode``. The CSV follows the column order of the Cabinet Office's 災害対応基本共有情報
(EEI) v1.1 item 21 避難所, then ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import Catalog
from mapsvc.db import shelter_status as db
from mapsvc.db.features import layer_extent
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.services.downloads import excel_csv
from mapsvc.services.shelter_status import (
    CROWDING_LABELS,
    STATUS_LABELS,
    STATUS_LAYERS,
    SiteStatus,
    check_mode,
    item_id,
    recorded_status,
    site_etag,
)

COLLECTION = "shelter_status"
TITLE = {"ja": "避難所・避難場所の開設状況", "en": "Shelter and evacuation site status"}
DESCRIPTION = {
    "ja": "市区町村が発表した開設状況・混雑度・避難者数（災害対応基本共有情報 v1.1 項目21）",
    "en": "Open/closed status, crowding and evacuee counts as the municipalities report them"
    " (Cabinet Office EEI v1.1, item 21)",
}
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# EEI v1.1 item 21's columns in its order (basic items, then specific ones), then ours.
CSV_HEADER = (
    "全国共通ID",
    "地方公共団体コード",
    "開設状況",
    "避難者数",
    "開設日時",
    "閉鎖日時",
    "定員状況",
    "施設・場所名",
    "種別",
    "想定収容人数",
    "受入可否",
    "更新日時",
    "モード",
)
KINDS = {"evacuation_sites": "指定緊急避難場所", "shelters": "指定避難所"}


@dataclass(frozen=True, kw_only=True)
class StatusItemsRequest:
    """What a client asked of the collection (parsed by the front end, checked here)."""

    mode: str = "real"
    layer: str | None = None
    municipality: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    datetime: str | None = None
    limit: int = 100
    offset: int = 0


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidParameter(
            "datetime は RFC 3339 の日時（例 2026-09-01T09:00:00+09:00）か、その区間 a/b です",
            "datetime is an RFC 3339 instant with its offset (2026-09-01T09:00:00+09:00)"
            " or an interval a/b (either end may be ..)",
        )
    return at


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None]:
    """(at, since) of an OGC ``datetime``: an instant, or an interval whose ends may be open.

    Examples
    --------
    >>> parse_datetime("2026-09-01T00:00:00Z/..")[0] is None
    True
    """
    if text is None:
        return None, None
    if "/" not in text:
        return _instant(text), None
    start, _, end = text.partition("/")
    since = None if start in ("", "..") else _instant(start)
    at = None if end in ("", "..") else _instant(end)
    if since is not None and at is not None and since > at:
        raise InvalidParameter(
            "datetime の区間は始まりが終わりより前です", "A datetime interval starts before it ends"
        )
    return at, since


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def _state(row: Any, mode: str) -> SiteStatus | None:
    """A site's state from a row of ``site_states`` (None: nothing recorded)."""
    if row.revision is None:
        return None
    return SiteStatus.of_columns(row, mode=mode, updated_at=row.updated_at, updated_by=None)


NOT_PUBLISHED = {"ja": "未発表", "en": "Not published"}


def status_properties(
    site: tuple[str, str, str], name: Any, state: SiteStatus | None, mode: str
) -> dict[str, Any]:
    """An item's properties: the site, its status in EEI's codes and in words, and crowding.

    Where nothing is recorded every status member is null ("未発表"): never a guessed status.
    """
    layer, code, key = site
    known: dict[str, Any] = {
        "status": None,
        "crowding": None,
        "evacuees": None,
        "capacity": None,
        "statusUpdated": None,
        "mode": mode,
        "statusLabel": NOT_PUBLISHED,
        "crowdingLabel": None,
        "accepting": None,
        "note": None,
        "opened": None,
        "closed": None,
        "revision": 0,
    }
    if state is not None:
        known = state.as_properties() | {
            "statusLabel": STATUS_LABELS[state.status],
            "crowdingLabel": CROWDING_LABELS[state.crowding],
            "accepting": state.accepting,
            "note": state.note,
            "opened": _iso(state.opened_at),
            "closed": _iso(state.closed_at),
            "revision": state.revision,
        }
    return {"layer": layer, "municipality": code, "site": key, "name": name} | known


def _feature(row: Any, catalog: Catalog, mode: str, links: StatusLinks) -> dict[str, Any]:
    site = (row.layer_id, row.municipality_code, row.feature_key)
    name = row.properties.get(catalog[row.layer_id].name_attribute)
    identifier = item_id(*site)
    return {
        "type": "Feature",
        "id": identifier,
        "geometry": {"type": "Point", "coordinates": [round(row.lon, 7), round(row.lat, 7)]},
        "properties": status_properties(site, name, _state(row, mode), mode),
        "links": [
            {"rel": "self", "type": "application/geo+json", "href": links.item_href(identifier)},
            {
                "rel": "related",
                "type": "application/geo+json",
                "title": "site",
                "href": links.site_href(row.layer_id, f"{row.municipality_code}-{row.feature_key}"),
            },
        ],
    }


def _query(request: StatusItemsRequest) -> db.StatusQuery:
    check_mode(request.mode)
    if request.layer is not None and request.layer not in STATUS_LAYERS:
        raise InvalidParameter(
            f"layer は {'・'.join(STATUS_LAYERS)} のどちらかです",
            f"layer is one of {', '.join(STATUS_LAYERS)}",
        )
    at, since = parse_datetime(request.datetime)
    return db.StatusQuery(
        layer_ids=[request.layer] if request.layer else list(STATUS_LAYERS),
        mode=request.mode,
        code=request.municipality,
        bbox=request.bbox,
        at=at,
        since=since,
        limit=request.limit,
        offset=request.offset,
    )


@dataclass(frozen=True)
class StatusLinks:
    """The URLs the front end knows: this page, the collection, another page, an item."""

    self_href: str
    collection_href: str
    page_href: Callable[[int, int], str]  # (offset, limit) -> that page's URL
    item_href: Callable[[str], str]  # an item id -> its URL
    site_href: Callable[[str, str], str]  # (layer, feature id) -> the site's feature


def items(
    session: Session, catalog: Catalog, request: StatusItemsRequest, links: StatusLinks
) -> bytes:
    """A page of the collection as GeoJSON, ordered by layer, municipality and site."""
    query = _query(request)
    rows = db.site_states(session, query)
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "numberReturned": len(rows),
        "features": [_feature(row, catalog, query.mode, links) for row in rows],
        "links": [
            {"rel": "self", "type": "application/geo+json", "href": links.self_href},
            {"rel": "collection", "type": "application/json", "href": links.collection_href},
        ],
    }
    if len(rows) == query.limit:
        href = links.page_href(query.offset + query.limit, query.limit)
        body["links"].append({"rel": "next", "type": "application/geo+json", "href": href})
    if query.offset:
        href = links.page_href(max(0, query.offset - query.limit), query.limit)
        body["links"].append({"rel": "prev", "type": "application/geo+json", "href": href})
    return orjson.dumps(body)


def item(
    session: Session,
    catalog: Catalog,
    site: tuple[str, str, str],
    *,
    mode: str,
    links: StatusLinks,
    state: SiteStatus | None = None,
) -> tuple[bytes, str]:
    """One published site's item and its strong ETag (404 for a site not published).

    A site with nothing recorded is at revision 0, so that its first change can name that
    state in ``If-Match`` like any other. ``state``: show this one (a change's answer) rather
    than the current one.
    """
    layer, code, key = site
    state = state or recorded_status(session, layer, code, key, mode=mode)
    point = db.site_point(session, layer, code, key)
    if point is None:  # taken down since the line above: as if it never was
        raise NotFound("その避難所・避難場所はありません", "No such site")
    lon, lat, properties = point
    name = properties.get(catalog[layer].name_attribute)
    body = {
        "type": "Feature",
        "id": item_id(layer, code, key),
        "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        "properties": status_properties(site, name, state, mode),
        "links": [
            {"rel": "self", "type": "application/geo+json", "href": links.self_href},
            {"rel": "collection", "type": "application/json", "href": links.collection_href},
        ],
    }
    etag = state.etag if state is not None else site_etag(layer, code, key, mode, 0)
    return orjson.dumps(body), etag


def collection(session: Session, base: str) -> dict[str, Any]:
    """The collection's description, with the extent of the sites that can have a status."""
    boxes = [b for b in (layer_extent(session, layer) for layer in STATUS_LAYERS) if b]
    spatial = (
        [
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ]
        if boxes
        else [122.0, 20.0, 154.0, 46.0]
    )
    href = f"{base}/collections/{COLLECTION}"
    return {
        "id": COLLECTION,
        "title": TITLE["ja"] + " / " + TITLE["en"],
        "description": DESCRIPTION["ja"] + " / " + DESCRIPTION["en"],
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {"bbox": [spatial], "crs": CRS84},
            "temporal": {"interval": [[None, None]]},
        },
        "links": [
            {"rel": "self", "type": "application/json", "href": href},
            {"rel": "items", "type": "application/geo+json", "href": f"{href}/items"},
            {
                "rel": "alternate",
                "type": "text/csv",
                "title": "EEI CSV",
                "href": f"{base}/shelter-status.csv",
            },
        ],
    }


def eei_csv(session: Session, catalog: Catalog, *, code: str | None, mode: str) -> str:
    """Every published site (of one owner) and its status, for Excel (UTF-8 with a BOM).

    A site with nothing recorded has an empty 開設状況: no status is claimed for it.
    """
    check_mode(mode)
    query = db.StatusQuery(layer_ids=STATUS_LAYERS, mode=mode, code=code, limit=1_000_000)

    def line(row: Any) -> list[Any]:
        state = _state(row, mode)
        name = row.properties.get(catalog[row.layer_id].name_attribute)
        known = [row.feature_key, row.municipality_code]
        if state is None:
            return [*known, "", "", "", "", "", name, KINDS[row.layer_id], "", "", "", ""]
        return [
            *known,
            STATUS_LABELS[state.status]["ja"],
            state.evacuees,
            _iso(state.opened_at),
            _iso(state.closed_at),
            CROWDING_LABELS[state.crowding]["ja"],
            name,
            KINDS[row.layer_id],
            state.capacity,
            "可" if state.accepting else "不可",
            _iso(state.updated_at),
            mode,
        ]

    return excel_csv(CSV_HEADER, (line(row) for row in db.site_states(session, query)))
