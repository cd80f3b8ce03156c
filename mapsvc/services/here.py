"""What is here: the municipality and ward at a point, and each hazard layer's answer there.

The answer is what a resident acts on, so it says "inside" wherever published data covers the
point (whoever published it), "outside" only where a publisher whose area includes the point has
published the layer and none of it covers the point, and "no data" everywhere else — never a
false "safe". Each scenario a feature carries (a building's tsunami and storm-surge depths) gets
its own advice and its own evacuation site, designated for that very hazard.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import Advice, Catalog, GeometryType, LayerDefinition
from mapsvc.db import places, queries
from mapsvc.services.places import Spot

SITES_LAYER = "evacuation_sites"
# A tap this close to a building (GPS and finger error) may read that building's depths.
NEAR_BUILDING_M = 5.0
_UNITS = {"_h": ("時間", "h"), "_m": ("m", "m")}


def _area(row: Any) -> dict[str, Any]:
    return {"code": row.code, "name": {"ja": row.name_ja, "en": row.name_en}, "kind": row.kind}


def place_at(session: Session, spot: Spot) -> dict[str, Any]:
    """The municipality and ward (or None) at the point: one answer, never two that disagree.

    Wards lie inside their city's exact outline (see ``ward_fit``); a point on a border that two
    rows cover takes the ward's own city, so the two always belong together. ``owners`` are the
    codes whose published data covers the point: the municipality and the prefecture.
    """
    found = places.municipalities_at(session, spot.lon, spot.lat)
    ward = next((m for m in found if m.kind == "ward"), None)
    cities = [m for m in found if m.kind != "ward"]
    city = next((m for m in cities if ward is None or m.code == ward.parent_code), None)
    return {
        "municipality": _area(city) if city else None,
        "ward": _area(ward) if ward and city else None,
        "owners": [c for c in (city.code, city.parent_code) if c] if city else [],
    }


def distance_text(metres: float) -> str:
    """A distance as people read it, 850 m or 1.2 km (the viewer's ``formatDistance``)."""
    return f"{round(metres)} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def _exact(layer: LayerDefinition, name: str, properties: dict[str, Any]) -> float | None:
    """The exact value a class attribute rounds (PLATEAU's 1.617 m beside 0.5〜3.0m), if any."""
    exact = layer.attribute(name).exact
    value = properties.get(exact) if exact else None
    return float(value) if isinstance(value, int | float) else None


def _details(layer: LayerDefinition, properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The feature's ``point_answer`` attributes that have a value, each labelled in words.

    An enum reads as its class, with the exact depth beside it where the data has it
    ("0.5〜3.0m（1.617m）"); a number reads with its unit ("4.9 時間").
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
            exact = _exact(layer, name, properties)
            if exact is not None:
                text = {"ja": f"{text['ja']}（{exact:g}m）", "en": f"{text['en']} ({exact:g} m)"}
        else:
            ja, en = next((u for suffix, u in _UNITS.items() if name.endswith(suffix)), ("", ""))
            text = {"ja": f"{value} {ja}".strip(), "en": f"{value} {en}".strip()}
        details.append(
            {"attribute": name, "value": value, "label": attribute.label.model_dump(), "text": text}
        )
    return details


def _building_summary(layer: LayerDefinition, details: list[dict[str, Any]]) -> dict[str, str]:
    return {
        "ja": f"{layer.title.ja}：この建物は"
        + "、".join(f"{d['label']['ja']} {d['text']['ja']}" for d in details),
        "en": f"{layer.title.en}: this building — "
        + ", ".join(f"{d['label']['en']} {d['text']['en']}" for d in details),
    }


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


def _severity(layer: LayerDefinition, attribute: str | None, value: Any) -> int:
    """How bad a class is: its place in the attribute's values (listed mildest first)."""
    if attribute is None:
        return 0
    values = [v.value for v in layer.attribute(attribute).values]
    return values.index(str(value)) + 1 if str(value) in values else 0


def _scenarios(layer: LayerDefinition, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each scenario (advice attribute) found at the point: its worst class, exact depth, advice.

    The worst first, across scenarios: a building's 3-5 m storm surge before its tsunami under
    0.5 m. A layer with one scenario names it by its own title.
    """
    attributes = list(dict.fromkeys(rule.attribute for rule in layer.advice))
    source = layer.advice_source.model_dump() if layer.advice_source else None
    scenarios = []
    for name in attributes:
        present = [p for p in found if name is None or p.get(name) is not None]
        if not present:
            continue
        worst = max(present, key=lambda p: _severity(layer, name, p.get(name or "")))
        value = None if name is None else str(worst[name])
        rule: Advice | None = next(
            (
                r
                for r in layer.advice
                if r.attribute == name and (name is None or value in r.values)
            ),
            None,
        )
        if rule is None:
            continue
        attribute = layer.attribute(name) if name else None
        entry = next((v for v in attribute.values if v.value == value), None) if attribute else None
        scenarios.append(
            {
                "attribute": name,
                "hazard": (
                    attribute.label if attribute and len(attributes) > 1 else layer.title
                ).model_dump(),
                "value": value,
                "class": entry.label.model_dump() if entry else None,
                "depth_m": _exact(layer, name, worst) if name else None,
                "advice": rule.text.model_dump() | {"source": source},
                "evacuation_flag": rule.evacuation_flag or layer.evacuation_flag,
            }
        )
    return sorted(scenarios, key=lambda s: -_severity(layer, s["attribute"], s["value"]))


def _site_municipality(session: Session, code: str) -> dict[str, str]:
    row = queries.get_municipality(session, code)
    return {"ja": row.name_ja, "en": row.name_en} if row else {"ja": code, "en": code}


def site_of(session: Session, row: Any) -> dict[str, Any]:
    """A nearest evacuation site as answers name it: who runs it, where, how far."""
    feature_id, geometry, properties, distance, owner = row
    props = orjson.loads(properties)
    return {
        "id": feature_id,
        "name": props.get("name"),
        "address": props.get("address"),
        "municipality": {"code": owner, "name": _site_municipality(session, owner)},
        "geometry": orjson.loads(geometry),
        "distance_m": round(float(distance), 1),
    }


def evacuation_for(
    session: Session,
    catalog: Catalog,
    flag: str,
    *,
    municipality: dict[str, Any] | None,
    spot: Spot,
) -> dict[str, Any] | None:
    """The nearest site designated for ``flag``'s hazard, and whether the municipality has any.

    Where the point's municipality designates none, a plain sentence says so, names the nearest
    designated site elsewhere with its municipality and distance, and points to the
    municipality's own hazard map.
    """
    sites = catalog.get(SITES_LAYER)
    if sites is None:
        return None
    hazard = sites.attribute(flag).label
    nearest = places.nearest(
        session, sites.id, lon=spot.lon, lat=spot.lat, limit=1, equals={flag: True}
    )
    site = site_of(session, nearest[0]) if nearest else None
    here = municipality["code"] if municipality else None
    designated_here = here is not None and places.designates(session, sites.id, here, flag)
    answer: dict[str, Any] = {"flag": flag, "hazard": hazard.model_dump(), "site": site}
    answer["designated_here"] = designated_here
    if not designated_here and municipality is not None:
        name = municipality["name"]
        ja = f"{name['ja']}は{hazard.ja}の指定緊急避難場所を指定していません。"
        en = f"{name['en']} designates no evacuation site for {hazard.en.lower()}."
        if site is not None:
            where, far = site["municipality"]["name"], distance_text(site["distance_m"])
            ja += f"最寄りの{hazard.ja}の指定緊急避難場所は{where['ja']}の{site['name']}（{far}）です。"
            en += f" The nearest site designated for it is {site['name']} in {where['en']} ({far})."
        ja += f"{name['ja']}のハザードマップで避難先を確認してください"
        en += f" Check {name['en']}'s own hazard map for where to go"
        answer["note"] = {"ja": ja, "en": en}
    return answer


def _no_building(
    session: Session, layer: LayerDefinition, spot: Spot, answer: dict[str, Any]
) -> None:
    """Off a building, a per-building layer says so, never "outside".

    A tap within a few metres of a building also gets that building's depths.
    """
    answer.update(
        status="no_building",
        summary={
            "ja": f"{layer.title.ja}：この地点には建物のデータがありません。建物をタップしてください",
            "en": f"{layer.title.en}: there is no building data at this spot. Tap a building",
        },
    )
    near = places.nearest(session, layer.id, lon=spot.lon, lat=spot.lat, limit=1, equals={})
    if near and float(near[0][3]) <= NEAR_BUILDING_M:
        details = _details(layer, orjson.loads(near[0][2]))
        answer["nearest_building"] = {
            "distance_m": round(float(near[0][3]), 1),
            "details": details,
            "summary": _building_summary(layer, details),
        }


def layer_answer(
    session: Session, layer: LayerDefinition, *, place: dict[str, Any], spot: Spot
) -> dict[str, Any]:
    """One hazard layer at the point: inside (classes, scenarios), outside, no building, no data.

    Each scenario names its ``evacuation_flag``; ``hazard_at`` turns it into a site.
    """
    answer: dict[str, Any] = {"layer": layer.id, "title": layer.title.model_dump()}
    found = places.features_at(session, layer.id, lon=spot.lon, lat=spot.lat)
    if not found:
        if not places.published_owners(session, layer.id, place["owners"]):
            answer.update(
                status="no_data",
                summary={
                    "ja": f"{layer.title.ja}：この場所のデータは公開されていません（安全という意味ではありません）",
                    "en": f"{layer.title.en}: no data is published for this place (this does not mean it is safe)",
                },
            )
        elif layer.point_answer:
            _no_building(session, layer, spot, answer)
        else:
            answer.update(
                status="outside",
                summary={
                    "ja": f"{layer.title.ja}の区域外です",
                    "en": f"Outside the {layer.title.en.lower()}",
                },
            )
        return answer
    answer["status"] = "inside"
    if layer.point_answer:
        details = _details(layer, found[0])
        answer.update(details=details, summary=_building_summary(layer, details))
    else:
        classes = _class_labels(layer, found)
        worst = classes[0]["label"] or {"ja": "", "en": ""}
        answer.update(
            classes=classes,
            summary={
                "ja": f"{layer.title.ja}の区域内です（{worst['ja']}）。避難先を確認してください",
                "en": f"Inside the {layer.title.en.lower()} ({worst['en']}). Check where to evacuate",
            },
        )
    answer["scenarios"] = _scenarios(layer, found)
    return answer


def hazard_at(
    session: Session,
    catalog: Catalog,
    layer: LayerDefinition,
    *,
    place: dict[str, Any],
    spot: Spot,
) -> dict[str, Any]:
    """The layer's answer at the point, each scenario with its evacuation site."""
    answer = layer_answer(session, layer, place=place, spot=spot)
    for scenario in answer.get("scenarios", []):
        flag = scenario.pop("evacuation_flag")
        if flag:
            scenario["evacuation"] = evacuation_for(
                session, catalog, flag, municipality=place["municipality"], spot=spot
            )
    return answer


def what_is_here(session: Session, catalog: Catalog, spot: Spot) -> dict[str, Any]:
    """The municipality (and ward) at the point and each hazard layer's answer there."""
    place = place_at(session, spot)
    hazards = [
        hazard_at(session, catalog, layer, place=place, spot=spot)
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
