"""Search for residents: a facility, a municipality or ward, an address's 大字・町丁目."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from layers import Catalog, GeometryType
from mapsvc.db import search
from mapsvc.services.seed import SeedManifest
from mapsvc.services.towns import address_answer, town_index

MUNICIPALITY_KINDS = ("municipality", "ward")


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE, folded as the columns are (width, case, kana), wildcards escaped."""
    folded = search.fold(text).strip()
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_all(
    session: Session, catalog: Catalog, *, text: str, limit: int, seed_manifest: Path
) -> dict[str, Any]:
    """Matching places (jump targets) and facilities, each with where to put the map.

    And the town the text names as an address (None where the prefecture has no town table).
    """
    pattern = like_pattern(text)
    places = [
        {
            "code": code,
            "kind": kind,
            "name": {"ja": name_ja, "en": name_en},
            "bbox": [west, south, east, north] if west is not None else None,
        }
        for code, kind, name_ja, name_en, west, south, east, north in search.municipalities(
            session, pattern, limit
        )
    ]
    # Areas (hazard zones, boundaries) are not facilities one searches for by name.
    searched = {
        layer.id: layer.name_attribute
        for layer in catalog.values()
        if layer.geometry_type is GeometryType.POINT
    }
    features = [
        {
            "layer": layer_id,
            "id": feature_id,
            "name": name,
            "address": address,
            "lon": round(lon, 6),
            "lat": round(lat, 6),
        }
        for layer_id, feature_id, name, address, lon, lat in search.features(
            session, searched, pattern=pattern, limit=limit
        )
    ]
    towns = town_index(SeedManifest.read(seed_manifest), None)
    nothing_else = not places and not features
    address = (
        address_answer(towns, text, limit, suggest=nothing_else) if towns is not None else None
    )
    return {"query": text, "places": places, "features": features, "address": address}
