"""Type-check a parsed CQL2 filter against a layer's queryables, before any SQL is built.

The database would refuse ``name > 5`` or ``geometry LIKE 'a'`` too, but as an error deep in a
query (a 500); here each mismatch is a 400 that names the property and says what to write.
Geometry literals are checked against the filter CRS's area of use, since PROJ cannot project
a point far outside it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from pygeofilter import ast, values
from shapely.geometry import shape

from layers import AttributeType, LayerDefinition
from mapsvc.db.filters import GEOMETRY_NAMES
from mapsvc.errors import InvalidParameter
from mapsvc.geo.crs import OutputCrs, area_of_use

MAX_MAGNITUDE = 1e15  # beyond any count, capacity or coordinate; keeps literals in int64

TEXT, NUMBER, BOOLEAN, DATE, GEOMETRY = "text", "number", "boolean", "date", "geometry"
_KIND_OF_TYPE = {
    AttributeType.INTEGER: NUMBER,
    AttributeType.NUMBER: NUMBER,
    AttributeType.FLAG: BOOLEAN,
    AttributeType.DATE: DATE,
}
# How to compare a property of each kind, in both languages.
_HOW = {
    TEXT: (
        "'…' で囲んだ文字と比べてください（例 name = '市役所'）",
        "compare it with quoted text, e.g. name = 'City Hall'",
    ),
    NUMBER: (
        "数値と比べてください（例 capacity > 100）",
        "compare it with a number, e.g. capacity > 100",
    ),
    BOOLEAN: (
        "true か false と比べてください（例 flood = true）",
        "compare it with true or false, e.g. flood = true",
    ),
    DATE: (
        "日付と比べてください（例 DATE('2024-04-01')）",
        "compare it with a date, e.g. DATE('2024-04-01')",
    ),
    GEOMETRY: (
        "空間関数で使ってください（例 S_INTERSECTS(geometry, BBOX(135.4,34.6,135.6,34.8))）",
        "use it in a spatial function, e.g. S_INTERSECTS(geometry, BBOX(135.4,34.6,135.6,34.8))",
    ),
}
_NAME_JA = {TEXT: "文字", NUMBER: "数値", BOOLEAN: "真偽値", DATE: "日付", GEOMETRY: "位置"}


def _invalid(ja: str, en: str) -> InvalidParameter:
    return InvalidParameter(f"filter が正しくありません（{ja}）", f"Invalid filter: {en}")


class _Checker:
    def __init__(self, layer: LayerDefinition, crs: OutputCrs) -> None:
        self.layer = layer
        self.crs = crs

    def property_kind(self, name: str) -> str:
        if name in GEOMETRY_NAMES:
            return GEOMETRY
        try:
            attribute = self.layer.attribute(name)
        except KeyError:
            raise InvalidParameter(
                f"filter に使えない属性です：{name}",
                f"Unknown property in filter: {name!r} (see /queryables)",
            ) from None
        return _KIND_OF_TYPE.get(attribute.type, TEXT)

    def kind(self, value: Any) -> str:
        """The kind of an operand: a property's, or a literal's (checked on the way)."""
        if isinstance(value, ast.Attribute):
            return self.property_kind(value.name)
        if isinstance(value, bool):
            return BOOLEAN
        if isinstance(value, int | float):
            if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
                raise _invalid(f"数値 {value} は大きすぎます", f"the number {value} is too large")
            return NUMBER
        if isinstance(value, str):
            if "\x00" in value:
                raise _invalid("文字に NUL が含まれています", "text contains a NUL character")
            return TEXT
        if isinstance(value, dt.date):  # datetime too
            return DATE
        if isinstance(value, values.Geometry):
            self.check_geometry(value.geometry)
            return GEOMETRY
        if isinstance(value, values.Envelope):
            self.check_coordinates([(value.x1, value.y1), (value.x2, value.y2)])
            return GEOMETRY
        if isinstance(value, ast.Function) and value.name.lower() == "bbox":
            numbers = value.arguments
            if len(numbers) not in (4, 6) or not all(
                isinstance(n, int | float) and not isinstance(n, bool) for n in numbers
            ):
                raise _invalid("BBOX は4つか6つの数値です", "BBOX takes four or six numbers")
            half = len(numbers) // 2
            self.check_coordinates([(numbers[0], numbers[1]), (numbers[half], numbers[half + 1])])
            return GEOMETRY
        described = type(value).__name__
        if isinstance(value, ast.Function):
            described = f"function {value.name}"
        raise InvalidParameter(
            f"filter の {described} には対応していません", f"Unsupported in filter: {described}"
        )

    def check_geometry(self, geojson: Any) -> None:
        try:
            geometry = shape(geojson)
        except Exception:  # shapely raises several kinds for malformed GeoJSON
            raise _invalid("ジオメトリが正しくありません", "malformed geometry") from None
        if geometry.is_empty:
            raise _invalid("ジオメトリが空です", "empty geometry")
        x0, y0, x1, y1 = geometry.bounds
        self.check_coordinates([(x0, y0), (x1, y1)])

    def check_coordinates(self, points: Iterable[tuple[Any, Any]]) -> None:
        """Every corner inside the CRS's area of use, with a margin of its own size."""
        west, south, east, north = area_of_use(self.crs.srid)
        margin_x, margin_y = east - west, north - south
        for point in points:
            x, y = (point[1], point[0]) if self.crs.north_first else point
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in (x, y)):
                raise _invalid("座標が数値ではありません", "coordinates must be numbers")
            inside = (
                west - margin_x <= x <= east + margin_x
                and south - margin_y <= y <= north + margin_y
            )
            if not inside:
                raise _invalid(
                    f"座標 ({x}, {y}) は {self.crs.uri} の範囲外です",
                    f"the point ({x}, {y}) is outside the area where {self.crs.uri} is defined",
                )

    def same_kind(self, lhs: Any, rhs: Any, what: str) -> None:
        left, right = self.kind(lhs), self.kind(rhs)
        if left == right and left != GEOMETRY:
            return
        named = next((v for v in (lhs, rhs) if isinstance(v, ast.Attribute)), None)
        if {left, right} == {DATE, TEXT} and named is not None and self.kind(named) == DATE:
            return  # dates are stored as ISO text: '2024-04-01' compares as the date does
        if named is None:
            raise _invalid(
                f"{what} の両辺の型が違います", f"the two sides of {what} differ in type"
            )
        kind = self.property_kind(named.name)
        ja, en = _HOW[kind]
        raise _invalid(
            f"{named.name} は{_NAME_JA[kind]}です。{ja}", f"{named.name} is {kind}: {en}"
        )

    def check(self, node: Any) -> None:
        if isinstance(node, ast.Not):
            self.check(node.sub_node)
        elif isinstance(node, ast.Combination):
            self.check(node.lhs)
            self.check(node.rhs)
        elif isinstance(node, ast.Comparison):
            self.same_kind(node.lhs, node.rhs, node.op.value)
        elif isinstance(node, ast.Between):
            self.same_kind(node.lhs, node.low, "BETWEEN")
            self.same_kind(node.lhs, node.high, "BETWEEN")
        elif isinstance(node, ast.In):
            for option in node.sub_nodes:
                self.same_kind(node.lhs, option, "IN")
        elif isinstance(node, ast.Like):
            self.same_kind(node.lhs, node.pattern, "LIKE")
        elif isinstance(node, ast.IsNull):
            self.kind(node.lhs)
        elif isinstance(node, ast.SpatialComparisonPredicate | ast.DistanceWithin):
            self.check_spatial(node)
        elif isinstance(node, ast.Attribute) or not isinstance(node, ast.Node):
            raise _invalid("条件になっていません", "the filter is not a condition")
        # other predicates (temporal, arrays…) are refused by the SQL translation as unsupported

    def check_spatial(self, node: ast.SpatialComparisonPredicate | ast.DistanceWithin) -> None:
        kinds = {self.kind(node.lhs), self.kind(node.rhs)}
        if kinds != {GEOMETRY}:
            raise _invalid("空間関数の引数は位置です", "spatial functions compare geometries")
        if isinstance(node, ast.DistanceWithin) and (
            isinstance(node.distance, bool) or self.kind(node.distance) != NUMBER
        ):
            raise _invalid("距離は数値です", "the distance must be a number")


def check_types(tree: ast.Node, layer: LayerDefinition, crs: OutputCrs) -> None:
    """Raise a 400 naming what to fix when the filter does not fit the layer's queryables.

    >>> from layers import load_catalog
    >>> from mapsvc.geo.crs import DEFAULT
    >>> from mapsvc.services.cql2 import parse_filter
    >>> sites = load_catalog()["evacuation_sites"]
    >>> check_types(parse_filter("capacity > 100 AND flood = true", None), sites, DEFAULT)
    >>> check_types(parse_filter("name > 5", None), sites, DEFAULT)
    Traceback (most recent call last):
    ...
    mapsvc.errors.InvalidParameter: Invalid filter: name is text: compare it with quoted text, e.g. name = 'City Hall'
    """
    _Checker(layer, crs).check(tree)
