"""The prefecture's municipalities and wards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mapsvc.api.deps import ReadSessionDep
from mapsvc.api.responses import FastJSONResponse
from mapsvc.services.municipalities import list_municipalities

router = APIRouter(prefix="/api", tags=["municipalities"])


@router.get("/municipalities", response_class=FastJSONResponse)
def get_municipalities(session: ReadSessionDep) -> dict[str, Any]:
    """Codes, names (ja/en), kinds and parents; boundaries are the municipal_boundaries layer."""
    return {"municipalities": list_municipalities(session)}
