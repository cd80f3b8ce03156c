"""The prefecture's municipalities and wards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mapsvc.api.deps import SessionDep
from mapsvc.api.responses import FastJSONResponse
from mapsvc.db import queries

router = APIRouter(prefix="/api", tags=["municipalities"])


@router.get("/municipalities", response_class=FastJSONResponse)
def list_municipalities(session: SessionDep) -> dict[str, Any]:
    """Codes, names (ja/en), kinds and parents; boundaries are the municipal_boundaries layer."""
    return {
        "municipalities": [
            {
                "code": m.code,
                "name_ja": m.name_ja,
                "name_en": m.name_en,
                "kind": m.kind,
                "parent_code": m.parent_code,
            }
            for m in queries.list_municipalities(session)
        ]
    }
