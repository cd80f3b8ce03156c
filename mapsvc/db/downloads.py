"""Read SQL for downloads: a layer's published features through a server-side cursor."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from mapsvc.db.features import f, public_id
from mapsvc.db.models import DatasetRow, VersionRow


def stream(
    session: Session, layer_id: str, owner: str | None, *, batch: int, wkt: bool = False
) -> Iterator[tuple[str, str, str]]:
    """(id, geometry as GeoJSON or WKT, properties JSON) for every published feature, in order.

    A server-side cursor fetches ``batch`` rows at a time: memory stays flat whatever the size.
    """
    geometry = func.ST_AsText(f.geom) if wkt else func.ST_AsGeoJSON(f.geom, 6)
    statement = (
        select(public_id(), geometry, cast(f.properties, Text))
        .select_from(f.geom.table)
        .where(f.layer_id == layer_id)
        .order_by(f.municipality_code, f.id)
    )
    if owner is not None:
        statement = statement.where(f.municipality_code == owner)
    result = session.execute(
        statement, execution_options={"stream_results": True, "yield_per": batch}
    )
    for row in result:
        yield row[0], row[1], row[2]


def updated(session: Session, layer_id: str) -> str | None:
    """When the layer's published data last changed (ISO 8601)."""
    latest = session.execute(
        select(func.max(VersionRow.published_at))
        .join(DatasetRow, DatasetRow.current_version_id == VersionRow.id)
        .where(DatasetRow.layer_id == layer_id)
    ).scalar_one()
    return None if latest is None else latest.isoformat()
