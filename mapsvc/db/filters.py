"""Translate a CQL2 syntax tree into a SQL condition on the features of a page.

Property names are allow-listed against the catalog (and typed by it); every literal is a bound
parameter; geometries arrive as GeoJSON and are transformed from the filter CRS.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from sqlalchemy import Boolean, Numeric, and_, case, func, literal, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from layers import AttributeType, LayerDefinition
from mapsvc.db.features import Condition, feature
from mapsvc.errors import InvalidParameter
from mapsvc.geo.crs import DEFAULT, OutputCrs

GEOMETRY_NAMES = {"geometry", "geom", "the_geom"}
_COMPARE = {
    "=": "__eq__",
    "<>": "__ne__",
    "<": "__lt__",
    "<=": "__le__",
    ">": "__gt__",
    ">=": "__ge__",
}
_SPATIAL = {
    "INTERSECTS": func.ST_Intersects,
    "DISJOINT": func.ST_Disjoint,
    "CONTAINS": func.ST_Contains,
    "WITHIN": func.ST_Within,
    "TOUCHES": func.ST_Touches,
    "CROSSES": func.ST_Crosses,
    "OVERLAPS": func.ST_Overlaps,
    "EQUALS": func.ST_Equals,
}
_METRES = {"meters": 1.0, "metres": 1.0, "m": 1.0, "kilometers": 1000.0, "km": 1000.0}


def _unsupported(what: str) -> InvalidParameter:
    return InvalidParameter(
        f"filter の {what} には対応していません", f"Unsupported in filter: {what}"
    )


class SqlFilter(Evaluator):
    """pygeofilter evaluator producing SQLAlchemy expressions over a page's features."""

    def __init__(self, layer: LayerDefinition, crs: OutputCrs) -> None:
        self.layer = layer
        self.crs = crs

    def _to_wgs84(self, shape: Any) -> Any:
        if self.crs.north_first:  # the client wrote latitude (northing) first
            shape = func.ST_FlipCoordinates(shape)
        return shape if self.crs.srid == 4326 else func.ST_Transform(shape, 4326)

    @handle(ast.Not)
    def negate(self, _: ast.Not, sub: ColumnElement[bool]) -> ColumnElement[bool]:
        return not_(sub)

    @handle(ast.And, ast.Or)
    def combine(self, node: ast.Combination, lhs: Any, rhs: Any) -> ColumnElement[bool]:
        return and_(lhs, rhs) if isinstance(node, ast.And) else or_(lhs, rhs)

    @handle(ast.Comparison, subclasses=True)
    def compare(self, node: ast.Comparison, lhs: Any, rhs: Any) -> ColumnElement[bool]:
        result: ColumnElement[bool] = getattr(lhs, _COMPARE[node.op.value])(rhs)
        return result

    @handle(ast.Between)
    def between(self, node: ast.Between, lhs: Any, low: Any, high: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = lhs.between(low, high)
        return not_(condition) if node.not_ else condition

    @handle(ast.Like)
    def like(self, node: ast.Like, lhs: Any) -> ColumnElement[bool]:
        if not isinstance(node.pattern, str):
            raise _unsupported("LIKE with a non-text pattern")
        condition: ColumnElement[bool] = (
            lhs.ilike(node.pattern) if node.nocase else lhs.like(node.pattern)
        )
        return not_(condition) if node.not_ else condition

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: Any, *options: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = lhs.in_(options)
        return not_(condition) if node.not_ else condition

    @handle(ast.IsNull)
    def is_null(self, node: ast.IsNull, lhs: Any) -> ColumnElement[bool]:
        return lhs.is_not(None) if node.not_ else lhs.is_(None)  # type: ignore[no-any-return]

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(
        self, node: ast.SpatialComparisonPredicate, lhs: Any, rhs: Any
    ) -> ColumnElement[bool]:
        return _SPATIAL[node.op.name](lhs, rhs)

    @handle(ast.DistanceWithin)
    def dwithin(self, node: ast.DistanceWithin, lhs: Any, rhs: Any) -> ColumnElement[bool]:
        units = str(node.units).lower()
        if units not in _METRES:
            raise _unsupported(f"distance unit {units}")
        metres = float(node.distance) * _METRES[units]
        if not 0 <= metres <= 100_000:
            raise InvalidParameter(
                "距離は100km以内で指定してください", "Distances are limited to 100 km"
            )
        return func.ST_DWithin(func.geography(lhs), func.geography(rhs), metres)

    @handle(ast.Attribute)
    def attribute(self, node: ast.Attribute) -> Any:
        if node.name in GEOMETRY_NAMES:
            return feature.geom
        try:
            attribute = self.layer.attribute(node.name)
        except KeyError:
            raise InvalidParameter(
                f"filter に使えない属性です：{node.name}",
                f"Unknown property in filter: {node.name!r} (see /queryables)",
            ) from None
        text = feature.properties[node.name].astext
        if attribute.type is AttributeType.FLAG:
            # A flag may also hold "conditional" (△), which is neither true nor false.
            return case((text.in_(("true", "false")), text.cast(Boolean)))
        if attribute.type in (AttributeType.INTEGER, AttributeType.NUMBER):
            return text.cast(Numeric)
        return text

    @handle(*values.LITERALS)
    def value(self, node: Any) -> Any:
        if isinstance(node, dt.date):  # dates are stored as ISO text, which sorts as they do
            return literal(node.isoformat())
        return literal(node)

    @handle(values.Geometry)
    def geometry(self, node: values.Geometry) -> Any:
        geojson = orjson.dumps(node.geometry).decode()
        return self._to_wgs84(func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson), self.crs.srid))

    @handle(values.Envelope)
    def envelope(self, node: values.Envelope) -> Any:
        return self._to_wgs84(
            func.ST_MakeEnvelope(node.x1, node.y1, node.x2, node.y2, self.crs.srid)
        )

    @handle(ast.Function)
    def function(self, node: ast.Function, *arguments: Any) -> Any:
        # CQL2 text's BBOX(minx, miny, maxx, maxy[, …]) literal arrives as a function call.
        del arguments  # the numbers, already bound as literals; the node keeps them raw
        numbers = node.arguments
        if node.name.lower() != "bbox" or len(numbers) not in (4, 6):
            raise _unsupported(f"function {node.name}")
        if len(numbers) == 6:  # a 3D box: drop the heights
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        if not all(isinstance(n, int | float) for n in numbers):
            raise _unsupported("BBOX with non-numeric corners")
        x1, y1, x2, y2 = (float(n) for n in numbers)
        return self._to_wgs84(func.ST_MakeEnvelope(x1, y1, x2, y2, self.crs.srid))


def to_condition(tree: ast.Node, layer: LayerDefinition, crs: OutputCrs = DEFAULT) -> Condition:
    """The SQL condition of a parsed filter on a page's features; 400 for what is unsupported."""
    try:
        condition: Condition = SqlFilter(layer, crs).evaluate(tree)
    except NotImplementedError as exc:
        raise _unsupported(str(exc)[:80] or type(tree).__name__) from None
    return condition
