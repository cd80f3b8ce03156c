"""Coverage: which municipality has published which layer, how much and when (the public matrix).

Residents should see where a layer is missing rather than take an empty map for "nothing
here"; staff and the prefecture see the gaps to fill.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from layers import Catalog
from mapsvc.db import harvest, queries
from mapsvc.services.downloads import excel_csv
from mapsvc.services.harvest.manage import freshness_view


def coverage(session: Session, catalog: Catalog) -> dict[str, Any]:
    """Municipalities (not wards: their city publishes) × layers, each cell its count and date.

    Each cell says where its data comes from (``from``: a clerk's ``upload`` or a harvested
    ``source``); ``sources`` gives, per layer with a source, where it is fetched from, when it
    was last checked and last changed, and the last problem in plain words (ja/en) — also for
    a source whose data is not published yet.
    """
    municipalities = [m for m in queries.list_municipalities(session) if m.kind != "ward"]
    sources: dict[str, dict[str, dict[str, Any]]] = {}
    for layer_id, code, source in harvest.sources_by_dataset(session):
        sources.setdefault(code, {})[layer_id] = {
            "kind": source.kind,
            "url": source.url,
            "reference": source.reference,
        } | freshness_view(source)
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    for layer_id, code, count, published_at in queries.coverage_cells(session):
        cells.setdefault(code, {})[layer_id] = {
            "count": count,
            "published": published_at.isoformat(timespec="seconds") if published_at else None,
            "from": "source" if layer_id in sources.get(code, {}) else "upload",
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
                "sources": sources.get(m.code, {}),
            }
            for m in municipalities
        ],
    }


def coverage_state(session: Session) -> str:
    """What the matrix depends on besides the published versions: the sources' freshness."""
    return harvest.freshness_state(session)


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
