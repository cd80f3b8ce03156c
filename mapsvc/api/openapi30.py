"""Serve the OpenAPI document as 3.0 (what OGC API Features and its validators expect).

FastAPI writes OpenAPI 3.1; the differences that matter here are nullable types, ``examples``
and numeric exclusive bounds, rewritten below.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

OPENAPI_30 = "3.0.3"


def _downgrade(node: Any) -> Any:
    if isinstance(node, list):
        return [_downgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _downgrade(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(key)
            if len(rest) == 1:
                node.update(rest[0])
            else:
                node[key] = rest
            node["nullable"] = True
    if node.get("type") == "null":
        node.pop("type")
        node["nullable"] = True
    if isinstance(node.get("type"), list):
        kinds = [t for t in node["type"] if t != "null"]
        node["type"] = kinds[0] if kinds else "string"
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node.get(bound), bool):
            node[flag] = node.pop(bound)
            node[bound] = True
    if "examples" in node and isinstance(node["examples"], list) and "in" not in node:
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    node.pop("const", None)
    if "contentMediaType" in node:
        node.pop("contentMediaType")
        node["format"] = "binary"
    return node


def _list_layers(document: dict[str, Any], layer_ids: list[str]) -> None:
    # Layer ids come from the catalog at start-up: documenting them as an enum tells clients (and
    # property-based testers) which values exist.
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "layer":
                    parameter["schema"] = {"type": "string", "enum": layer_ids}


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a stable code and the message in Japanese and English",
    "required": ["code", "detail", "message_ja", "message_en"],
    "properties": {
        "code": {"type": "string", "example": "invalid_parameter"},
        "detail": {"type": "string"},
        "message_ja": {"type": "string"},
        "message_en": {"type": "string"},
        "report": {"type": "object", "description": "uploads: what is wrong, row by row"},
    },
}
_ERROR_RESPONSE = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
}
_ERRORS = {
    "4XX": "A request to fix: bad parameter, no key, not found, too large, too many…",
    "503": "Busy or unavailable: retry after the Retry-After header's seconds",
}


def _document_errors(document: dict[str, Any]) -> None:
    # FastAPI documents its own 422 validation body; this API answers every error, 400s for
    # malformed parameters included, in one shape (mapsvc.errors).
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                responses.pop("422")
            for status, description in _ERRORS.items():
                responses[status] = {"description": description, **_ERROR_RESPONSE}


def openapi_30(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document rewritten as 3.0.3 (cached on the app)."""
    cached: dict[str, Any] | None = getattr(app.state, "openapi_30", None)
    if cached is None:
        document = _downgrade(copy.deepcopy(app.openapi()))
        document["openapi"] = OPENAPI_30
        _list_layers(document, list(app.state.catalog))
        _document_errors(document)
        app.state.openapi_30 = cached = document
    return cached


def add_openapi_30(app: FastAPI) -> None:
    """Serve ``/api/openapi.json`` (OpenAPI 3.0) next to FastAPI's own 3.1 ``/openapi.json``."""

    @app.get("/api/openapi.json", include_in_schema=False, name="openapi30")
    def serve(request: Request) -> JSONResponse:
        return JSONResponse(
            openapi_30(request.app), media_type="application/vnd.oai.openapi+json;version=3.0"
        )
