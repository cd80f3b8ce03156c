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
