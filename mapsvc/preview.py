"""A folium map of staged features, flagged rows highlighted: what staff check before publishing.

The only module that imports folium.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import folium

from layers import LayerDefinition

GSI_TILES = "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png"
GSI_ATTRIBUTION = "国土地理院"
FLAGGED = "#d32f2f"


def _escaped(properties: Mapping[str, Any]) -> dict[str, Any]:
    # folium's tooltips render HTML and its scripts embed the data: uploaded text stays text.
    return {k: html.escape(v) if isinstance(v, str) else v for k, v in properties.items()}


def render_preview(
    layer: LayerDefinition,
    features: Iterable[tuple[dict[str, Any], dict[str, Any], int | None]],
    report: Mapping[str, Any],
    *,
    leaflet_url: str,
) -> str:
    """HTML of a map of ``features`` ((geometry, properties, row) tuples, EPSG:4326).

    Features on rows with warnings are drawn in red; rows with errors (not stored) are listed.
    ``leaflet_url`` is where the page loads Leaflet from (the app serves it; no CDN).
    """
    flagged_rows = {w["row"] for w in report.get("warnings", []) if w.get("row") is not None}
    fields = list(dict.fromkeys([layer.name_attribute, *layer.popup[:4]]))
    blank = dict.fromkeys(fields)  # tooltips need every field on every feature
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": blank
                | _escaped(properties)
                | {"_row": row, "_flagged": row in flagged_rows},
            }
            for geometry, properties, row in features
        ],
    }
    fmap = folium.Map(
        location=[34.6, 135.5], zoom_start=9, tiles=None, control_scale=True, prefer_canvas=True
    )
    fmap.default_js = [("leaflet", f"{leaflet_url}/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{leaflet_url}/leaflet.css")]
    folium.TileLayer(GSI_TILES, attr=GSI_ATTRIBUTION, name="GSI").add_to(fmap)
    style = layer.style

    def draw(feature: dict[str, Any]) -> dict[str, Any]:
        colour = FLAGGED if feature["properties"]["_flagged"] else style.color
        return {
            "color": colour,
            "fillColor": colour,
            "weight": max(style.weight, 2),
            "fillOpacity": 0.4,
        }

    if collection["features"]:
        layer_json = folium.GeoJson(
            collection,
            style_function=draw,
            marker=folium.CircleMarker(radius=style.radius, fill=True),
            tooltip=folium.GeoJsonTooltip(
                fields=["_row", *fields], aliases=["行 row", *[_label(layer, f) for f in fields]]
            ),
        )
        layer_json.add_to(fmap)
        fmap.fit_bounds(layer_json.get_bounds())  # type: ignore[arg-type] # never None: features exist
    errors = report.get("errors", [])[:200]
    rows = "".join(
        f"<tr><td>{html.escape(str(e.get('row') or ''))}</td><td>{html.escape(str(e.get('column') or ''))}</td>"
        f"<td>{html.escape(str(e.get('value') or ''))}</td><td>{html.escape(e['message_ja'])}<br>"
        f"{html.escape(e['message_en'])}</td></tr>"
        for e in errors
    )
    summary = (
        f"<div style='position:fixed;bottom:8px;left:8px;z-index:1000;background:#fff;padding:6px;"
        f"max-height:40%;overflow:auto;font:13px sans-serif'>{html.escape(layer.title.ja)}: "
        f"{report.get('accepted', 0)} / {report.get('rows', 0)} 件 (accepted / rows); "
        f"<span style='color:{FLAGGED}'>● 要確認 flagged</span>"
        + (
            f"<table><tr><th>行</th><th>列</th><th>値</th><th>内容</th></tr>{rows}</table>"
            if rows
            else ""
        )
        + "</div>"
    )
    root: Any = fmap.get_root()  # a folium Figure; the stubs type it as Element
    root.html.add_child(folium.Element(summary))
    rendered: str = root.render()
    return rendered


def _label(layer: LayerDefinition, name: str) -> str:
    try:
        attribute = layer.attribute(name)
    except KeyError:
        return name
    return f"{attribute.label.ja} {attribute.label.en}"
