"""Layers as OGC API collections: the catalog joined with what is published of each layer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from layers import CATEGORY_TITLES, AttributeType, Catalog, LayerDefinition
from mapsvc.db import queries
from mapsvc.db.features import layer_extent
from mapsvc.db.models import MunicipalityRow
from mapsvc.geo.crs import CRS84, SUPPORTED
from mapsvc.services import status_open_data
from mapsvc.services.shelter_status import STATUS_LAYERS


def collection(
    layer: LayerDefinition,
    publication: queries.Publication,
    *,
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
        # Who publishes it (municipality codes; the prefecture's code: all of it).
        "publishers": list(publication.publishers),
        "updated": publication.updated.isoformat(timespec="seconds")
        if publication.updated
        else None,
        "layer": layer.model_dump(mode="json")
        | {"category_title": dict(zip(("ja", "en"), CATEGORY_TITLES[layer.category], strict=True))},
    }
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return body


def published_collections(session: Session, catalog: Catalog, base: str) -> list[dict[str, Any]]:
    """Every layer with published data, with its extent (OGC ``/collections``).

    With the sites' layers comes the collection of their status (``status_open_data``).
    """
    publications = queries.published(session)
    found = [
        collection(layer, publications[layer.id], extent=layer_extent(session, layer.id), base=base)
        for layer in catalog.values()
        if layer.id in publications
    ]
    if set(publications) & set(STATUS_LAYERS):
        found.append(status_open_data.collection(session, base))
    return found


def coverage_summary(
    publishers: tuple[str, ...], municipalities: dict[str, MunicipalityRow], of: int
) -> dict[str, Any]:
    """How much of the prefecture a layer covers, for the panel: "大阪市のみ", "3 / 43", "府全域".

    And which municipalities publish it (``names``).

    ``publishers`` are dataset owners (never wards: their city publishes); ``of`` is how many
    municipalities the prefecture has.
    """
    prefecture_wide = any(municipalities[c].kind == "prefecture" for c in publishers)
    own = [municipalities[c] for c in publishers if municipalities[c].kind != "prefecture"]
    only = own[0] if len(own) == 1 and not prefecture_wide else None
    return {
        "municipalities": len(own),
        "of": of,
        "prefectureWide": prefecture_wide,
        "only": {"ja": only.name_ja, "en": only.name_en} if only else None,
        # Which ones, for the layer list ("大阪市・堺市のみ") and the coverage page.
        "names": [{"ja": m.name_ja, "en": m.name_en} for m in sorted(own, key=lambda m: m.code)],
    }


def catalog_layers(session: Session, catalog: Catalog, base: str) -> list[dict[str, Any]]:
    """The whole catalog, layers no municipality has published yet included (count 0)."""
    publications = queries.published(session)
    municipalities = {m.code: m for m in queries.list_municipalities(session)}
    of = sum(m.kind not in ("ward", "prefecture") for m in municipalities.values())
    nothing = queries.Publication()
    layers = []
    for layer in catalog.values():
        publication = publications.get(layer.id, nothing)
        body = collection(layer, publication, extent=None, base=base)
        body["coverage"] = coverage_summary(publication.publishers, municipalities, of)
        layers.append(body)
    return layers


def one_collection(session: Session, layer: LayerDefinition, base: str) -> dict[str, Any]:
    """One layer's metadata: extent, CRSs, licence and attribution, links."""
    publication = queries.published(session).get(layer.id, queries.Publication())
    return collection(layer, publication, extent=layer_extent(session, layer.id), base=base)


def queryables_schema(layer: LayerDefinition, self_href: str) -> dict[str, Any]:
    """The properties a filter may use, as JSON Schema (OGC API Features Part 3)."""
    kinds = {
        AttributeType.FLAG: "boolean",
        AttributeType.INTEGER: "integer",
        AttributeType.NUMBER: "number",
    }
    properties: dict[str, Any] = {"geometry": {"$ref": "https://geojson.org/schema/Geometry.json"}}
    for attribute in layer.attributes:
        schema: dict[str, Any] = {
            "title": attribute.label.ja,
            "description": attribute.label.en,
            "type": kinds.get(attribute.type, "string"),
        }
        if attribute.values:
            schema["enum"] = [v.value for v in attribute.values]
        properties[attribute.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": self_href,
        "type": "object",
        "title": layer.title.ja,
        "properties": properties,
        "additionalProperties": False,
    }
