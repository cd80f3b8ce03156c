"""A layer's blank template: the standard headers a municipality fills in, and one example row.

The headers are the attributes' ``standard_header`` (the Digital Agency 自治体標準オープン
データセット's where it has them) in the catalog's order, with the latitude and longitude columns
after the address, as the standard places them; each is an alias, so a filled-in template
imports with no column mapping at all.
"""

from __future__ import annotations

from layers.catalog import load_geometry_columns
from layers.definition import Attribute, AttributeType, GeometryType, LayerDefinition

# An example cell per type, valid for the import; text says plainly that it is an example.
_EXAMPLES = {
    AttributeType.INTEGER: "100",
    AttributeType.NUMBER: "1250.5",
    AttributeType.FLAG: "1",
    AttributeType.URL: "https://www.example.jp/",
    AttributeType.PHONE: "06-0000-0000",
    AttributeType.DATE: "2026-04-01",
}


def has_template(layer: LayerDefinition) -> bool:
    """Whether the layer takes rows a person types: points, with standard headers.

    >>> from layers import load_catalog
    >>> has_template(load_catalog()["aed"]), has_template(load_catalog()["flood_hazard"])
    (True, False)
    """
    standard = any(a.standard_header for a in layer.attributes)
    return layer.geometry_type is GeometryType.POINT and standard


def _example(attribute: Attribute, municipality_code: str) -> str:
    if attribute.type is AttributeType.ENUM:
        return attribute.values[0].value
    if attribute.type is AttributeType.MUNICIPALITY_CODE:
        return municipality_code
    return _EXAMPLES.get(attribute.type, f"（記入例）{attribute.label.ja}")


def template_table(
    layer: LayerDefinition, *, municipality_code: str, position: tuple[float, float]
) -> tuple[list[str], list[str]]:
    """The template's headers and its example row, placed at ``position`` (lon, lat).

    Examples
    --------
    >>> from layers import load_catalog
    >>> headers, row = template_table(
    ...     load_catalog()["public_facilities"], municipality_code="272027", position=(135.37, 34.46)
    ... )
    >>> headers
    ['名称', '施設分類', '所在地_連結表記', '緯度', '経度', '全国地方公共団体コード']
    >>> row
    ['（記入例）名称', '1', '（記入例）所在地', '34.460000', '135.370000', '272027']
    """
    coordinates = load_geometry_columns()
    standard = [a for a in layer.attributes if a.standard_header]
    headers = [a.standard_header or "" for a in standard]
    row = [_example(a, municipality_code) for a in standard]
    names = [a.name for a in standard]
    at = names.index("address") + 1 if "address" in names else len(names)
    lon, lat = position
    headers[at:at] = [coordinates["latitude"][0], coordinates["longitude"][0]]
    row[at:at] = [f"{lat:.6f}", f"{lon:.6f}"]
    return headers, row
