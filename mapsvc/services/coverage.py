"""Coverage: which municipality has published which layer, how much and when (the public matrix).

Residents should see where a layer is missing rather than take an empty map for "nothing
here"; staff and the prefecture see the gaps to fill.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from layers import Catalog
from mapsvc.db import queries
from mapsvc.services.downloads import excel_csv


def coverage(session: Session, catalog: Catalog) -> dict[str, Any]:
    """Municipalities (not wards: their city publishes) × layers, each cell its count and date."""
    municipalities = [m for m in queries.list_municipalities(session) if m.kind != "ward"]
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    for layer_id, code, count, published_at in queries.coverage_cells(session):
        cells.setdefault(code, {})[layer_id] = {
            "count": count,
            "published": published_at.isoformat(timespec="seconds") if published_at else None,
        }
    return {
        "layers": [
            {
                "id": layer.id,
                "title": layer.title.model_dump(),
                "category": layer.category.value,
                "geometry_type": layer.geometry_type.value,
            }
            for layer in catalog.values()
            if layer.id != "municipal_boundaries"
        ],
        "municipalities": [
            {
                "code": m.code,
                "name": {"ja": m.name_ja, "en": m.name_en},
                "kind": m.kind,
                "layers": cells.get(m.code, {}),
            }
            for m in municipalities
        ],
    }


def coverage_csv(matrix: dict[str, Any]) -> str:
    """The matrix as CSV for Excel (UTF-8 with BOM): one row per municipality, a count per layer."""
    layers = matrix["layers"]
    header = [
        "code",
        "municipality",
        *(f"{layer['title']['ja']} ({layer['id']})" for layer in layers),
    ]
    rows = (
        [
            m["code"],
            m["name"]["ja"],
            *(m["layers"].get(layer["id"], {}).get("count", 0) for layer in layers),
        ]
        for m in matrix["municipalities"]
    )
    return excel_csv(header, rows)
