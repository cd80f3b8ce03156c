"""Response classes."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse, Response


class GeoJSONResponse(Response):
    """RFC 7946 media type; the body is already-serialised bytes."""

    media_type = "application/geo+json"


class FastJSONResponse(JSONResponse):
    """JSON via orjson (non-ASCII kept as UTF-8)."""

    def render(self, content: Any) -> bytes:
        """Serialise with orjson."""
        return orjson.dumps(content)


# OpenAPI descriptions of the bodies these routes stream as bytes (FastAPI cannot infer them).
_GEOMETRY = {
    "type": "object",
    "nullable": True,
    "required": ["type"],
    "properties": {"type": {"type": "string"}},
}
FEATURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "string"},
        "geometry": _GEOMETRY,
        "properties": {"type": "object", "nullable": True},
        "municipality": {
            "type": "object",
            "description": "who published this feature: the municipality's code and names",
            "properties": {
                "code": {"type": "string"},
                "name": {
                    "type": "object",
                    "properties": {"ja": {"type": "string"}, "en": {"type": "string"}},
                },
            },
        },
        "updated": {
            "type": "string",
            "nullable": True,
            "description": "when this feature's dataset was published (ISO 8601)",
        },
        "dataDate": {
            "type": "string",
            "description": "when the data describes the world, as its publisher says (2015, "
            "2026-04): absent when not said",
        },
        "links": {"type": "array", "items": {"type": "object"}},
    },
}
COLLECTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": FEATURE_SCHEMA},
        "numberReturned": {"type": "integer"},
        "numberMatched": {"type": "integer"},
        "links": {"type": "array", "items": {"type": "object"}},
    },
}


def geojson_body(schema: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """A ``responses=`` entry: a 200 of ``application/geo+json`` with this schema."""
    return {
        200: {"content": {"application/geo+json": {"schema": schema}}, "description": "GeoJSON"}
    }
