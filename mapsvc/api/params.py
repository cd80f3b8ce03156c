"""Query parameters of the feature endpoints: parsed, bounded, allow-listed; unknown ones refused."""

from __future__ import annotations

import math
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import Annotated, Any

from fastapi import Query, Request

from layers import AttributeType, LayerDefinition
from mapsvc.api.deps import LayerDep
from mapsvc.errors import InvalidParameter
from mapsvc.geo.crs import DEFAULT, SUPPORTED, OutputCrs, parse_crs
from mapsvc.services.cql2_types import MAX_MAGNITUDE
from mapsvc.services.features import ItemsRequest
from mapsvc.services.shelter_status import STATUS_LAYERS, check_mode

MAX_OFFSET = 10_000_000  # deeper pages are refused: a client walks them by bbox, not offset
COMMON = {
    "f",
    "filter",
    "filter-lang",
    "filter-crs",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "properties",
    "sortby",
    "municipality",
}


def reject_unknown(request: Request, allowed: Iterable[str]) -> None:
    """400 for any query parameter the endpoint does not define (OGC /req/core/query-param-unknown)."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise InvalidParameter(
            f"使えないパラメータです：{', '.join(unknown)}",
            f"Unknown query parameter(s): {', '.join(unknown)}",
        )


def crs_param(value: str | None, name: str = "crs") -> OutputCrs:
    """A supported CRS, or 400 naming the ones that are."""
    crs = parse_crs(value)
    if crs is None:
        names = ", ".join(c.uri for c in SUPPORTED)
        raise InvalidParameter(
            f"{name} に対応していない座標系です（{names}）",
            f"Unsupported {name} (use one of: {names})",
        )
    return crs


def parse_bbox(value: str | None, srid: int) -> tuple[float, float, float, float] | None:
    """minx,miny,maxx,maxy in the bbox CRS's x/y order; bounded."""
    if value is None:
        return None
    message = (
        "bbox は 最小経度,最小緯度,最大経度,最大緯度 の4つの数値で指定してください",
        f"bbox must be four numbers minLon,minLat,maxLon,maxLat, not {value!r}",
    )
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise InvalidParameter(*message) from None
    if len(numbers) == 6:  # 3D bbox: drop the heights
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(abs(n) < 1e8 for n in numbers):
        raise InvalidParameter(*message)
    min_x, min_y, max_x, max_y = numbers
    in_degrees = srid in (4326, 6668)
    if (
        min_x > max_x
        or min_y > max_y
        or (in_degrees and not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90))
    ):
        raise InvalidParameter(*message)
    return min_x, min_y, max_x, max_y


def attribute_names(layer: LayerDefinition) -> set[str]:
    """The attributes a client may filter, sort or select by."""
    return {a.name for a in layer.attributes}


def parse_properties(value: str | None, allowed: AbstractSet[str]) -> tuple[str, ...] | None:
    """The ``properties`` selection, allow-listed against the layer's attribute names."""
    if value is None:
        return None
    # Each name once: a name repeated fifty times would build a query PostgreSQL refuses.
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise InvalidParameter(
            f"不明な属性です：{', '.join(unknown)}", f"Unknown properties: {', '.join(unknown)}"
        )
    return names


def parse_sortby(value: str | None, allowed: AbstractSet[str]) -> tuple[tuple[str, bool], ...]:
    """``sortby=+name,-capacity``: the layer's attribute names only, at most three keys."""
    if not value:
        return ()
    keys = []
    for item in value.split(","):
        item = item.strip()
        descending = item.startswith("-")
        name = item.lstrip("+-").strip()
        if name not in allowed:
            raise InvalidParameter(
                f"並べ替えに使えない属性です：{name}", f"Cannot sort by {name!r}"
            )
        keys.append((name, descending))
    if len(keys) > 3:
        raise InvalidParameter("並べ替えの項目は3つまでです", "sortby takes at most three keys")
    return tuple(keys)


def attribute_filters(request: Request, layer: LayerDefinition) -> dict[str, Any]:
    """Equality filters ``?<attribute>=<value>``, typed by the catalog (flags true/false)."""
    filters: dict[str, Any] = {}
    for attribute in layer.attributes:
        raw = request.query_params.get(attribute.name)
        if raw is None:
            continue
        if attribute.type is AttributeType.FLAG:
            if raw.lower() not in ("true", "false"):
                raise InvalidParameter(
                    f"{attribute.name} は true か false です",
                    f"{attribute.name} must be true or false",
                )
            filters[attribute.name] = raw.lower() == "true"
        elif attribute.type in (AttributeType.INTEGER, AttributeType.NUMBER):
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            if not abs(number) <= MAX_MAGNITUDE:  # NaN and infinities too
                raise InvalidParameter(
                    f"{attribute.name} は数値です", f"{attribute.name} must be a number"
                )
            filters[attribute.name] = int(number) if number.is_integer() else number
        else:
            filters[attribute.name] = raw[:200]
    return filters


async def items_request(
    request: Request,
    layer: LayerDep,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy (in bbox-crs; default CRS84)")
    ] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="output CRS URI (default CRS84)")] = None,
    limit: Annotated[int | None, Query(ge=1, description="features per page")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    properties: Annotated[
        str | None, Query(description="comma-separated attributes to return")
    ] = None,
    sortby: Annotated[str | None, Query(description="+attribute,-attribute")] = None,
    municipality: Annotated[
        str | None, Query(description="6-digit code; a ward clips its city")
    ] = None,
    datetime: Annotated[str | None, Query(description="accepted; the layers carry no time")] = None,  # noqa: ARG001
    filter: Annotated[str | None, Query(description="CQL2 filter (see /queryables)")] = None,
    filter_lang: Annotated[
        str | None, Query(alias="filter-lang", description="cql2-text or cql2-json")
    ] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
) -> ItemsRequest:
    """The items query parameters as one typed request; 400 for anything malformed or unknown.

    Async although it awaits nothing: parsing is CPU-only, and a sync dependency would cost a
    threadpool hop per request.
    """
    names = attribute_names(layer)
    reject_unknown(request, COMMON | names | status_params(layer))
    box_crs = crs_param(bbox_crs, "bbox-crs")
    return ItemsRequest(
        layer=layer,
        limit=limit,
        offset=offset,
        bbox=parse_bbox(bbox, box_crs.srid),
        bbox_crs=box_crs,
        crs=crs_param(crs),
        properties=parse_properties(properties, names),
        sortby=parse_sortby(sortby, names),
        municipality=municipality,
        equals=attribute_filters(request, layer),
        filter=filter,
        filter_lang=filter_lang,
        filter_crs=crs_param(filter_crs, "filter-crs") if filter is not None else DEFAULT,
        status_mode=status_mode(request),
    )


def status_params(layer: LayerDefinition) -> set[str]:
    """``mode``: which status the items of the sites' layers carry (real unless asked)."""
    return {"mode"} if layer.id in STATUS_LAYERS else set()


def status_mode(request: Request) -> str:
    """The status mode a request asks for: real unless it says drill or test."""
    return check_mode(request.query_params.get("mode", "real"))
