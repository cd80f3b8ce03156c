"""Every read statement. Bound parameters only; identifiers come from the ORM metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Row, Table, column, func, select, table, text
from sqlalchemy.orm import Session

from mapsvc.db.models import DatasetRow, LayerRow, MunicipalityRow, VersionRow

# The view of published features (created by the first migration).
published_feature: Table = table(  # type: ignore[assignment]
    "published_feature",
    column("id"),
    column("version_id"),
    column("source_id"),
    column("properties"),
    column("geom"),
    column("dataset_id"),
    column("layer_id"),
    column("municipality_code"),
)


@dataclass(frozen=True)
class FeatureQuery:
    """What a client asked of a layer's published features."""

    layer_id: str
    limit: int
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    municipality_code: str | None = None  # a dataset owner
    within_code: str | None = None  # a ward: features inside its boundary


def select_feature_page(
    session: Session, query: FeatureQuery
) -> Sequence[Row[tuple[int, str, str]]]:
    """One page of features as (id, geometry GeoJSON text, properties JSON text).

    PostGIS writes each geometry's GeoJSON (6 decimals, ~0.1 m) so the service passes the text
    through without parsing it: the read path is serialisation-bound.
    """
    f = published_feature.c
    statement = (
        select(f.id, func.ST_AsGeoJSON(f.geom, 6), text("published_feature.properties::text"))
        .select_from(published_feature)
        .where(f.layer_id == query.layer_id)
        .order_by(f.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    if query.bbox is not None:
        statement = statement.where(f.geom.op("&&")(func.ST_MakeEnvelope(*query.bbox, 4326)))
    if query.municipality_code is not None:
        statement = statement.where(f.municipality_code == query.municipality_code)
    if query.within_code is not None:
        boundary = (
            select(MunicipalityRow.boundary)
            .where(MunicipalityRow.code == query.within_code)
            .scalar_subquery()
        )
        statement = statement.where(func.ST_Intersects(f.geom, boundary))
    return session.execute(statement).all()


def count_published(session: Session) -> dict[str, int]:
    """Published feature count per layer."""
    statement = (
        select(DatasetRow.layer_id, func.sum(VersionRow.feature_count))
        .join(VersionRow, VersionRow.id == DatasetRow.current_version_id)
        .group_by(DatasetRow.layer_id)
    )
    return {layer: int(n) for layer, n in session.execute(statement)}


def get_municipality(session: Session, code: str) -> MunicipalityRow | None:
    """One municipality by code."""
    return session.get(MunicipalityRow, code)


def list_municipalities(session: Session) -> Sequence[MunicipalityRow]:
    """All municipalities in code order."""
    return session.execute(select(MunicipalityRow).order_by(MunicipalityRow.code)).scalars().all()


def list_layer_rows(session: Session) -> Sequence[LayerRow]:
    """The catalog as synchronised into the database."""
    return session.execute(select(LayerRow).order_by(LayerRow.id)).scalars().all()


def version_with_source(session: Session, sha256: str) -> bool:
    """Whether any version was made from the file with this hash."""
    statement = select(VersionRow.id).where(VersionRow.source_sha256 == sha256).limit(1)
    return session.execute(statement).first() is not None


def find_version(session: Session, dataset_id: int, sha256: str) -> VersionRow | None:
    """The dataset's version made from the file with this hash, if any."""
    statement = select(VersionRow).where(
        VersionRow.dataset_id == dataset_id, VersionRow.source_sha256 == sha256
    )
    return session.execute(statement).scalar_one_or_none()


def get_version(session: Session, version_id: int) -> VersionRow | None:
    """One version by id."""
    return session.get(VersionRow, version_id)
