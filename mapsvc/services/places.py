"""Point questions residents ask: what is nearest, and what applies at this spot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import Catalog, GeometryType, LayerDefinition
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
    for feature_id, geometry, properties, distance in rows:
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


def _class_labels(layer: LayerDefinition, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    attribute = (
        layer.attribute(layer.style.class_attribute) if layer.style.class_attribute else None
    )
    labels = {v.value: v for v in attribute.values} if attribute else {}
    classes = []
    for properties in found:
        value = properties.get(layer.style.class_attribute or "")
        entry = labels.get(str(value))
        classes.append(
            {
                "value": value,
                "label": entry.label.model_dump() if entry else None,
                "name": properties.get(layer.name_attribute),
            }
        )
    return sorted(classes, key=lambda c: str(c["value"]), reverse=True)


_UNITS = {"_h": ("時間", "h"), "_m": ("m", "m")}


def advice_for(layer: LayerDefinition, found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first of the layer's advice rules that any feature at the point matches, with its source."""
    for rule in layer.advice:
        for properties in found:
            value = None if rule.attribute is None else properties.get(rule.attribute)
            if rule.attribute is None or (value is not None and str(value) in rule.values):
                source = layer.advice_source.model_dump() if layer.advice_source else None
                return rule.text.model_dump() | {"source": source}
    return None


def _details(layer: LayerDefinition, properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The feature's ``point_answer`` attributes that have a value, each labelled in words.

    An enum reads as its class ("0.5〜3.0m"), a number with its unit ("4.9 時間").
    """
    details = []
    for name in layer.point_answer:
        value = properties.get(name)
        if value is None:
            continue
        attribute = layer.attribute(name)
        entry = next((v for v in attribute.values if v.value == str(value)), None)
        if entry is not None:
            text = entry.label.model_dump()
        else:
            ja, en = next((u for suffix, u in _UNITS.items() if name.endswith(suffix)), ("", ""))
            text = {"ja": f"{value} {ja}".strip(), "en": f"{value} {en}".strip()}
        details.append(
            {"attribute": name, "value": value, "label": attribute.label.model_dump(), "text": text}
        )
    return details


def hazard_at(
    session: Session, catalog: Catalog, layer: LayerDefinition, *, owners: list[str], spot: Spot
) -> dict[str, Any]:
    """One hazard layer at the point: inside (with classes), outside, or no data published.

    "outside" is said only where the municipality or the prefecture has published this layer;
    elsewhere the answer is "no_data", never a false "safe".
    """
    lon, lat = spot.lon, spot.lat
    published = places.published_owners(session, layer.id, owners)
    answer: dict[str, Any] = {"layer": layer.id, "title": layer.title.model_dump()}
    if not published:
        answer.update(
            status="no_data",
            summary={
                "ja": f"{layer.title.ja}：この場所のデータは公開されていません（安全という意味ではありません）",
                "en": f"{layer.title.en}: no data is published for this place (this does not mean it is safe)",
            },
        )
        return answer
    found = places.features_at(session, layer.id, published, lon=lon, lat=lat)
    if not found:
        answer.update(
            status="outside",
            summary={
                "ja": f"{layer.title.ja}の区域外です",
                "en": f"Outside the {layer.title.en.lower()}",
            },
        )
    elif layer.point_answer:
        details = _details(layer, found[0])
        answer.update(
            status="inside",
            details=details,
            summary={
                "ja": f"{layer.title.ja}：この建物は"
                + "、".join(f"{d['label']['ja']} {d['text']['ja']}" for d in details),
                "en": f"{layer.title.en}: this building — "
                + ", ".join(f"{d['label']['en']} {d['text']['en']}" for d in details),
            },
        )
    else:
        classes = _class_labels(layer, found)
        worst = classes[0]["label"] or {"ja": "", "en": ""}
        answer.update(
            status="inside",
            classes=classes,
            summary={
                "ja": f"{layer.title.ja}の区域内です（{worst['ja']}）。避難先を確認してください",
                "en": f"Inside the {layer.title.en.lower()} ({worst['en']}). Check where to evacuate",
            },
        )
    if found and (advice := advice_for(layer, found)) is not None:
        answer["advice"] = advice
    if layer.evacuation_flag:
        shelters = catalog.get("evacuation_sites")
        if shelters is not None:
            nearest = places.nearest(
                session,
                shelters.id,
                lon=lon,
                lat=lat,
                limit=1,
                equals={layer.evacuation_flag: True},
            )
            if nearest:
                feature_id, geometry, properties, distance = nearest[0]
                props = orjson.loads(properties)
                answer["nearest_evacuation_site"] = {
                    "id": feature_id,
                    "name": props.get("name"),
                    "address": props.get("address"),
                    "geometry": orjson.loads(geometry),
                    "distance_m": round(float(distance), 1),
                }
    return answer


def _area(row: Any) -> dict[str, Any]:
    return {"code": row.code, "name": {"ja": row.name_ja, "en": row.name_en}, "kind": row.kind}


def place_at(session: Session, spot: Spot) -> dict[str, Any]:
    """The municipality and ward (or None) at the point: one answer, never two that disagree.

    Wards lie inside their city's exact outline (see ``ward_fit``); a point on a border that two
    rows cover takes the ward's own city, so the two always belong together.
    """
    found = places.municipalities_at(session, spot.lon, spot.lat)
    ward = next((m for m in found if m.kind == "ward"), None)
    cities = [m for m in found if m.kind != "ward"]
    city = next((m for m in cities if ward is None or m.code == ward.parent_code), None)
    return {
        "municipality": _area(city) if city else None,
        "ward": _area(ward) if ward and city else None,
        "owners": [c for c in (city.code if city else None, city.parent_code if city else None) if c],
    }


def what_is_here(session: Session, catalog: Catalog, spot: Spot) -> dict[str, Any]:
    """The municipality (and ward) at the point and each hazard layer's answer there."""
    place = place_at(session, spot)
    hazards = [
        hazard_at(session, catalog, layer, owners=place["owners"], spot=spot)
        for layer in catalog.values()
        if layer.category.value == "disaster" and layer.geometry_type is GeometryType.POLYGON
    ]
    return {
        "point": [spot.lon, spot.lat],
        "municipality": place["municipality"],
        "ward": place["ward"],
        "hazards": hazards,
        "inside_prefecture": place["municipality"] is not None,
    }
