"""Seed reference data: the catalog's layers, the prefecture's municipalities and boundaries."""

from __future__ import annotations

import csv
import gzip
import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from importers import ImportReport, read_geojson, to_features
from importers.codes import check_digit, to_code6
from layers import Catalog
from mapsvc.db import queries, writes
from mapsvc.services.versions import SourceFile, publish, stage
from mapsvc.services.ward_fit import fit_wards

SEED_ACTOR = "system:seed"
BOUNDARY_LAYER = "municipal_boundaries"


@dataclass(frozen=True)
class SeedManifest:
    """The files that describe one prefecture (see data/seed/seed.toml)."""

    prefecture: str
    code_master: Path
    names_en: Path
    boundaries: tuple[Path, ...]
    plane_srid: int
    towns: Path | None = None  # a point per 大字・町丁目, for address-only rows (optional)

    @classmethod
    @lru_cache(maxsize=4)
    def read(cls, path: Path) -> SeedManifest:
        """Parse the manifest; paths in it are relative to it.

        Read once per path: it does not change while the service runs, and uploads ask for it.
        """
        data = tomllib.loads(path.read_text("utf-8"))
        base = path.parent
        return cls(
            prefecture=to_code6(data["prefecture"]),
            code_master=base / data["code_master"],
            names_en=base / data["names_en"],
            boundaries=tuple(base / p for p in data["boundaries"]),
            plane_srid=int(data["plane_srid"]),
            towns=base / data["towns"] if "towns" in data else None,
        )


def sync_layers(session: Session, catalog: Catalog) -> None:
    """Make the layer table match the catalog (layers are never deleted: datasets refer to them)."""
    for layer in catalog.values():
        writes.upsert_layer(
            session,
            {
                "id": layer.id,
                "category": layer.category.value,
                "geometry_type": layer.geometry_type.value,
                "title_ja": layer.title.ja,
                "title_en": layer.title.en,
                "definition": layer.model_dump(mode="json"),
            },
        )


def _kind(code: str, name: str) -> str:
    # MIC's numbering puts designated cities and their wards in xx100-xx199; the name tells which.
    if 100 <= int(code[2:5]) <= 199:
        return "ward" if name.endswith("区") else "designated_city"
    return {"市": "city", "町": "town", "村": "village"}.get(name[-1], "city")


def _english_name(
    code: str, kind: str, *, parent: str | None, names_en: dict[str, str]
) -> str | None:
    # Ward names repeat across cities (Kita-ku in Osaka and in Sakai): prefix the city's name,
    # as the Japanese name does (大阪市北区).
    name = names_en.get(code)
    if name and kind == "ward" and parent in names_en:
        return f"{names_en[parent]} {name}"
    return name


def _boundaries(files: tuple[Path, ...]) -> dict[str, BaseGeometry]:
    """Boundary per 6-digit code; a code's first file wins; pieces of one code are merged.

    A file may be gzipped (``.gz``).
    """
    found: dict[str, list[BaseGeometry]] = {}
    seen_before: set[str] = set()
    for path in files:
        in_this_file: set[str] = set()
        content = path.read_bytes()
        if path.suffix == ".gz":
            content = gzip.decompress(content)
        for record in read_geojson(content):
            code = to_code6(record.properties["N03_007"])
            if code in seen_before or record.geometry is None:
                continue
            in_this_file.add(code)
            found.setdefault(code, []).append(shapely.make_valid(record.geometry))
        seen_before |= in_this_file
    return {code: shapely.union_all(parts) for code, parts in found.items()}


def seed_municipalities(session: Session, manifest: SeedManifest) -> int:
    """Upsert the prefecture and its municipalities and wards; return how many."""
    prefix = manifest.prefecture[:2]
    master = json.loads(manifest.code_master.read_text("utf-8"))[prefix]
    with manifest.names_en.open(encoding="utf-8") as f:
        names_en = {row["code"]: row["name_en"] for row in csv.DictReader(f)}
    boundaries = _boundaries(manifest.boundaries)
    prefecture = prefix + "000" + check_digit(prefix + "000")
    rows: list[tuple[str, str, str, str | None]] = [
        (prefecture, master["name"], "prefecture", None)
    ]
    cities = [c for c in master["cities"].values() if c["code"] != prefecture]
    kinds = {c["code"]: _kind(c["code"], c["cityName"]) for c in cities}
    designated = sorted(code for code, kind in kinds.items() if kind == "designated_city")
    for city in cities:
        kind = kinds[city["code"]]
        owner = prefecture
        if kind == "ward":  # wards follow their city's code: the nearest designated city below
            owner = max(code for code in designated if code < city["code"])
        rows.append((city["code"], city["cityName"], kind, owner))
    for city_code in designated:  # wards inside their city's (exact) outline, tiling it
        wards = {r[0]: boundaries[r[0]] for r in rows if r[3] == city_code and r[0] in boundaries}
        if city_code in boundaries and wards:
            boundaries.update(fit_wards(boundaries[city_code], wards))
    for code, name_ja, kind, parent in sorted(
        rows, key=lambda r: (r[3] is not None, r[3] or "", r[0])
    ):
        boundary = boundaries.get(code)
        writes.upsert_municipality(
            session,
            {
                "code": code,
                "parent_code": parent,
                "kind": kind,
                "name_ja": name_ja,
                "name_en": _english_name(code, kind, parent=parent, names_en=names_en) or name_ja,
                "boundary": None if boundary is None else boundary.wkt,
            },
        )
    writes.union_children_boundaries(session, prefecture)
    return len(rows)


def publish_boundaries(session: Session, catalog: Catalog, prefecture: str) -> bool:
    """Publish the boundary layer, owned by the prefecture, through the ordinary version path.

    The source file is a GeoJSON written from the municipality table, stored like any upload.
    Returns False when that exact file is already a version.
    """
    features = []
    for row in queries.bounded_municipalities(session):
        geometry = shapely.from_wkb(bytes(row.boundary.data))  # type: ignore[union-attr]
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geometry),
                "properties": {
                    "code": row.code,
                    "name_ja": row.name_ja,
                    "name_en": row.name_en,
                    "kind": row.kind,
                    "parent_code": row.parent_code,
                },
            }
        )
    content = orjson.dumps({"type": "FeatureCollection", "features": features})
    source = SourceFile(content, "municipal_boundaries.geojson", "geojson")
    if queries.version_with_source(session, source.sha256):
        return False
    report = ImportReport()
    layer = catalog[BOUNDARY_LAYER]
    accepted = list(to_features(read_geojson(content), layer, report))
    version, _ = stage(
        session,
        layer_id=layer.id,
        municipality_code=prefecture,
        source=source,
        features=accepted,
        report=report,
        actor=SEED_ACTOR,
    )
    publish(session, version.id, SEED_ACTOR)
    return True
