"""The prefecture's town table (a point per 大字・町丁目): one matcher for uploads and search."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from importers.towns import TownIndex, TownMatch
from mapsvc.services.seed import SeedManifest


def town_index(seed: SeedManifest, city: str | None) -> TownIndex | None:
    """The towns of municipality ``city`` (all its wards), or of the whole prefecture (None).

    None where the prefecture's seed has no town table.
    """
    return _read(seed.towns, city) if seed.towns is not None else None


@lru_cache(maxsize=64)
def _read(path: Path, city: str | None) -> TownIndex:
    return TownIndex.from_csv(path, city=city)  # read once per municipality and process


def _town(match: TownMatch) -> dict[str, Any]:
    return {"name": match.town, "city": match.city, "lon": match.lon, "lat": match.lat}


def address_answer(index: TownIndex, text: str, limit: int, *, suggest: bool) -> dict[str, Any]:
    """Where an address is, to the 大字・町丁目: ``found`` (one town), ``ambiguous`` or ``not_found``.

    The point is the town's representative point, not the building: every answer says it is
    approximate. Where no town matches and ``suggest``, ``suggestions`` names the towns spelled
    most alike (30 ms of string matching over every town: not for a search that found a facility).
    """
    towns = index.matches(text)
    status = "not_found" if not towns else "found" if len(towns) == 1 else "ambiguous"
    return {
        "status": status,
        "approximate": True,
        "towns": [_town(m) for m in towns[:limit]],
        "suggestions": index.closest(text) if suggest and not towns else [],
    }
