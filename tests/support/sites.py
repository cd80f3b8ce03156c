"""Shelter-status test helpers: a municipality's evacuation sites as a small file to publish."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from layers import load_catalog
from mapsvc.services import uploads
from mapsvc.services.session import Session
from mapsvc.services.versions import SourceFile
from mapsvc.settings import Settings

KISHIWADA = "272027"
# A real site of the demo data (GSI's file for 岸和田市): 大芝小学校, designated for 高潮 and 津波.
OSHIBA = "E2720200003201"


@dataclass(frozen=True)
class Site:
    """One row of an evacuation-site file: its 共通ID, name, position and 想定収容人数."""

    common_id: str
    name: str
    lon: float
    lat: float
    capacity: int | None = None
    flood: bool = False


def sites_file(sites: Sequence[Site]) -> SourceFile:
    """A GeoJSON file of evacuation sites with the columns of GSI's data."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {
                "共通ID": s.common_id,
                "施設・場所名": s.name,
                "住所": "大阪府岸和田市岸城町7-1",
                "洪水": "1" if s.flood else "",
            }
            | ({"想定収容人数": s.capacity} if s.capacity is not None else {}),
        }
        for s in sites
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return SourceFile(body.encode(), "sites.geojson", "geojson")


def publish_sites(
    session: Session, settings: Settings, sites: Sequence[Site], code: str = KISHIWADA
) -> None:
    """Upload and publish ``sites`` as the municipality's evacuation sites (commits)."""
    uploads.upload(
        session,
        settings,
        layer=load_catalog()["evacuation_sites"],
        municipality=code,
        source=sites_file(sites),
        request=uploads.upload_request(publish=True),
        actor="test",
    )


def site_position(session: Session, code: str, key: str) -> tuple[float, float]:
    """Where the published site lies (lon, lat)."""
    row = session.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom) FROM published_feature "
            "WHERE layer_id = 'evacuation_sites' AND municipality_code = :code "
            "AND feature_key = :key"
        ),
        {"code": code, "key": key},
    ).one()
    return float(row[0]), float(row[1])
