"""The answer any chat service can send, for one hazard at a point.

What applies, what to do and whose guidance that is, and the nearest open site designated for
that hazard.

It is built from ``here.what_is_here`` — the viewer's answer — so both say the same things from
the same data in the same words; ``open_sites`` adds what the municipalities report open. At
most five lines, each in Japanese and English, and the same parts as JSON. Honest first: a place
without data says so (never "safe"), and a site is called open only where its municipality
reported it open for real (not in a drill).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from layers import Catalog, LayerDefinition
from mapsvc.services.emergencies import active
from mapsvc.services.here import SITES_LAYER, what_is_here
from mapsvc.services.open_sites import hazard_flags, nearest_for, site_text, unknown_hazard
from mapsvc.services.places import Spot

MAX_LINES = 5


def _layer_flags(layer: LayerDefinition) -> set[str]:
    """The evacuation flags a hazard layer's answers send people to (per scenario)."""
    return {f for f in (layer.evacuation_flag, *(r.evacuation_flag for r in layer.advice)) if f}


def _heading(scenario: dict[str, Any]) -> dict[str, str]:
    """A scenario as the viewer heads it: "高潮 3.0〜5.0m（3.68m）" (``scenarioHeading``)."""
    hazard, kind = scenario["hazard"], scenario["class"]
    if not kind:
        return dict(hazard)
    depth = scenario["depth_m"]
    return {
        "ja": f"{hazard['ja']} {kind['ja']}" + (f"（{depth:g}m）" if depth is not None else ""),
        "en": f"{hazard['en']}: {kind['en']}" + (f" ({depth:g} m)" if depth is not None else ""),
    }


def _severity(layer: LayerDefinition, scenario: dict[str, Any]) -> float:
    """How bad a scenario's class is on its own scale, so the advice given is the most demanding.

    1.0: the worst class, or a zone without classes such as 家屋倒壊等氾濫想定区域.
    """
    if scenario["attribute"] is None:
        return 1.0
    values = [v.value for v in layer.attribute(scenario["attribute"]).values]
    if scenario["value"] not in values:
        return 0.0
    return (values.index(scenario["value"]) + 1) / len(values)


def _applies(
    catalog: Catalog, here: dict[str, Any], flag: str, label: dict[str, str]
) -> dict[str, Any]:
    """What applies at the point for this hazard, from the layers whose answers lead to its sites.

    Inside: each scenario found for this hazard (a building's tsunami depth is not a storm-surge
    answer), with the advice of the most severe. Else "outside" where a layer's publisher says
    so for this place; else "no data", never "safe".
    """
    relevant = [h for h in here["hazards"] if flag in _layer_flags(catalog[h["layer"]])]
    found = [
        (catalog[h["layer"]], s)
        for h in relevant
        for s in h.get("scenarios", [])
        if (s.get("evacuation") or {}).get("flag") == flag
    ]
    if found:
        headings = [_heading(s) for _, s in found]
        _, worst = max(found, key=lambda pair: _severity(*pair))
        advice = worst["advice"]
        return {
            "status": "inside",
            "text": {
                "ja": "、".join(h["ja"] for h in headings) + "のおそれがあります",
                "en": "Risk of " + "; ".join(h["en"] for h in headings),
            },
            "advice": {
                "text": {"ja": advice["ja"], "en": advice["en"]},
                "source": advice["source"],
            },
            "evacuation": worst.get("evacuation"),
        }
    outside = next((h for h in relevant if h["status"] == "outside"), None)
    if outside is not None:
        return {"status": "outside", "text": outside["summary"], "advice": None}
    # Off a building, or nothing published: either way the data says nothing about this place.
    return {
        "status": "no_data",
        "text": {
            "ja": f"{label['ja']}：この場所のデータは公開されていません（安全という意味ではありません）",
            "en": f"{label['en']}: no data is published for this place (this does not mean it is safe)",
        },
        "advice": None,
    }


def route_link(lon: float, lat: float, origin: Spot | None = None) -> str:
    """A walking route in the phone's maps app: the viewer's link (``routeLink`` in geo.js)."""
    params = {"api": "1", "destination": f"{lat:.6f},{lon:.6f}", "travelmode": "walking"}
    if origin is not None:
        params["origin"] = f"{origin.lat:.6f},{origin.lon:.6f}"
    return f"https://www.google.com/maps/dir/?{urlencode(params)}"


def _place_name(here: dict[str, Any]) -> dict[str, str] | None:
    area = here["ward"] or here["municipality"]
    return dict(area["name"]) if area else None


def _emergencies(session: Session, here: dict[str, Any]) -> list[dict[str, Any]]:
    """The real emergencies of the point's municipality (and ward), each with its message.

    The message is in its municipality's own words, so the line names it as its source.
    """
    areas = {a["code"]: a["name"] for a in (here["municipality"], here["ward"]) if a}
    found = []
    for emergency in active(session, codes=list(areas), mode="real"):
        name = areas[emergency.code]
        level = emergency.alert_level
        found.append(
            {
                **emergency.as_json(),
                "text": {
                    "ja": f"{name['ja']}（警戒レベル{level}）：{emergency.message_ja}",
                    "en": f"{name['en']} (alert level {level}): {emergency.message_en}",
                },
            }
        )
    return found


def _lines(answer: dict[str, Any]) -> dict[str, list[str]]:
    """The answer as at most five lines per language.

    The place and what applies, what to do (with its source), the municipality's emergency
    message, where to go, the walking route.
    """
    place, applies, site = answer["place"], answer["applies"], answer["site"]
    lines: dict[str, list[str]] = {}
    for lang, sep, source, route in (
        ("ja", "：", "（出典：{}）", "徒歩の経路：{}"),
        ("en", ": ", " (Source: {})", "Walking route: {}"),
    ):
        text = [f"{place[lang]}{sep}{applies['text'][lang]}" if place else applies["text"][lang]]
        if applies["advice"]:
            advice = applies["advice"]
            text.append(advice["text"][lang] + source.format(advice["source"][lang]))
        text += [e["text"][lang] for e in answer["emergencies"][:1]]
        text.append(answer["site_text"][lang])
        if site:
            text.append(route.format(site["route"]))
        lines[lang] = text[:MAX_LINES]
    return lines


def answer_at(session: Session, catalog: Catalog, spot: Spot, hazard: str | None) -> dict[str, Any]:
    """The chat answer for ``hazard`` at ``spot`` (see the module's docstring).

    Without a hazard: the one of the municipality's emergency, else the worst found here; with
    neither, 400 naming the hazards one may ask about.
    """
    known = hazard_flags(catalog[SITES_LAYER])
    if hazard is not None and hazard not in known:
        raise unknown_hazard(known)
    here = what_is_here(session, catalog, spot)
    emergencies = _emergencies(session, here)
    flag = hazard or next((e["hazard"] for e in emergencies if e["hazard"] in known), None)
    flag = flag or _worst_hazard_here(catalog, here)
    if flag is None:
        raise unknown_hazard(known)
    label = known[flag]
    found = nearest_for(session, flag, spot=spot, layer_id=SITES_LAYER)
    site = found.site
    if site is not None:
        lon, lat = site["geometry"]["coordinates"]
        site["route"] = route_link(lon, lat, origin=spot)
    answer: dict[str, Any] = {
        "point": [spot.lon, spot.lat],
        "hazard": {"name": flag, "label": label},
        "municipality": here["municipality"],
        "ward": here["ward"],
        "place": _place_name(here),
        "applies": _applies(catalog, here, flag, label),
        "emergencies": emergencies,
        "open_status": found.status,
        "site": site,
        "site_text": site_text(found, label),
    }
    answer["lines"] = _lines(answer)
    return answer


def _worst_hazard_here(catalog: Catalog, here: dict[str, Any]) -> str | None:
    """The hazard of the most severe scenario found at the point, if any."""
    found = [
        (_severity(catalog[h["layer"]], s), s["evacuation"]["flag"])
        for h in here["hazards"]
        for s in h.get("scenarios", [])
        if s.get("evacuation")
    ]
    return max(found)[1] if found else None
