"""Every read statement. Bound parameters only; identifiers come from the ORM metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Row, func, select, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from mapsvc.db.models import (
    ApiKeyRow,
    DatasetRow,
    FeatureRow,
    MunicipalityRow,
    SourceFileRow,
    VersionRow,
)


@dataclass(frozen=True)
class Publication:
    """What is published of a layer: how many features, and when they last changed."""

    count: int = 0
    updated: datetime | None = None
    publishers: tuple[str, ...] = ()  # the municipalities (or the prefecture) that publish it


def published(session: Session) -> dict[str, Publication]:
    """Per layer with published data: feature count, latest publish time, who publishes it."""
    statement = (
        select(
            DatasetRow.layer_id,
            func.sum(VersionRow.feature_count),
            func.max(VersionRow.published_at),
            func.array_agg(DatasetRow.municipality_code),
        )
        .join(VersionRow, VersionRow.id == DatasetRow.current_version_id)
        .group_by(DatasetRow.layer_id)
    )
    return {
        layer: Publication(int(n), at, tuple(sorted(codes)))
        for layer, n, at, codes in session.execute(statement)
    }


def coverage_cells(session: Session) -> Sequence[Row[tuple[str, str, int, datetime | None]]]:
    """(layer, municipality, features, published at) of every dataset with a published version."""
    statement = (
        select(
            DatasetRow.layer_id,
            DatasetRow.municipality_code,
            VersionRow.feature_count,
            VersionRow.published_at,
        )
        .join(VersionRow, VersionRow.id == DatasetRow.current_version_id)
        .order_by(DatasetRow.municipality_code, DatasetRow.layer_id)
    )
    return session.execute(statement).all()


def ping(session: Session) -> None:
    """A round trip to the database."""
    session.execute(text("SELECT 1"))


def dataset_sources(
    session: Session, layer_id: str
) -> Sequence[Row[tuple[str, str, str, datetime | None, str | None]]]:
    """Per municipality publishing the layer: (code, names ja/en, published at, the data's date)."""
    statement = (
        select(
            DatasetRow.municipality_code,
            MunicipalityRow.name_ja,
            MunicipalityRow.name_en,
            VersionRow.published_at,
            VersionRow.options["data_date"].astext,
        )
        .join(VersionRow, VersionRow.id == DatasetRow.current_version_id)
        .join(MunicipalityRow, MunicipalityRow.code == DatasetRow.municipality_code)
        .where(DatasetRow.layer_id == layer_id)
    )
    return session.execute(statement).all()


def get_municipality(session: Session, code: str) -> MunicipalityRow | None:
    """One municipality by code."""
    return session.get(MunicipalityRow, code)


def list_municipalities(session: Session) -> Sequence[MunicipalityRow]:
    """All municipalities in code order."""
    return session.execute(select(MunicipalityRow).order_by(MunicipalityRow.code)).scalars().all()


def bounded_municipalities(session: Session) -> Sequence[MunicipalityRow]:
    """Municipalities and wards with a boundary, in code order (not the prefecture)."""
    statement = (
        select(MunicipalityRow)
        .where(MunicipalityRow.boundary.is_not(None), MunicipalityRow.kind != "prefecture")
        .order_by(MunicipalityRow.code)
    )
    return session.execute(statement).scalars().all()


def version_with_source(session: Session, sha256: str) -> bool:
    """Whether any version was made from the file with this hash."""
    statement = select(VersionRow.id).where(VersionRow.source_sha256 == sha256).limit(1)
    return session.execute(statement).first() is not None


def find_version(
    session: Session, dataset_id: int, sha256: str, options: dict[str, Any]
) -> VersionRow | None:
    """The dataset's version made from the file with this hash read with these options, if any."""
    statement = select(VersionRow).where(
        VersionRow.dataset_id == dataset_id,
        VersionRow.source_sha256 == sha256,
        VersionRow.options == type_coerce(options, JSONB),
    )
    return session.execute(statement).scalar_one_or_none()


def buffered_boundary(session: Session, code: str, metres: float) -> BaseGeometry | None:
    """A municipality's boundary grown by ``metres`` (geodesic), or None if it has none."""
    grown = func.ST_Buffer(func.geography(MunicipalityRow.boundary), metres)
    wkb = session.execute(
        select(func.ST_AsBinary(func.geometry(grown))).where(MunicipalityRow.code == code)
    ).scalar_one_or_none()
    if wkb is None:
        return None
    boundary = shapely.from_wkb(bytes(wkb))
    shapely.prepare(boundary)  # many point-in-polygon tests follow
    return boundary


METRES_PER_DEGREE_AT_LEAST = 75_000  # a degree of longitude at 46° N, Japan's northern tip


def boundaries_near(
    session: Session, code: str, metres: float
) -> list[tuple[str, str, str, BaseGeometry]]:
    """The municipality and the others around it, within ``metres``, with exact boundaries.

    Each as (code, name ja, name en, boundary); wards and the prefecture are left out.
    """
    own = select(MunicipalityRow.boundary).where(MunicipalityRow.code == code).scalar_subquery()
    # Planar, in degrees, and over-inclusive (a degree is more than 75 km anywhere in Japan): the
    # geodesic distance between two full-resolution outlines took 20 s for 岸和田市 (thousands of
    # vertices each), this 0.09 s with the same answer. A neighbour too many only costs a lookup.
    degrees = metres / METRES_PER_DEGREE_AT_LEAST
    rows = session.execute(
        select(
            MunicipalityRow.code,
            MunicipalityRow.name_ja,
            MunicipalityRow.name_en,
            func.ST_AsBinary(MunicipalityRow.boundary),
        ).where(
            MunicipalityRow.kind.not_in(["ward", "prefecture"]),
            func.ST_DWithin(MunicipalityRow.boundary, own, degrees),
        )
    ).all()
    found = []
    for row_code, name_ja, name_en, wkb in rows:
        boundary = shapely.from_wkb(bytes(wkb))
        shapely.prepare(boundary)  # many point-in-polygon tests follow
        found.append((row_code, name_ja, name_en, boundary))
    return found


def get_key(session: Session, prefix: str) -> ApiKeyRow | None:
    """An API key by its visible prefix."""
    return session.execute(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)).scalar_one_or_none()


def list_keys(session: Session) -> list[ApiKeyRow]:
    """Every API key, newest first."""
    return list(session.execute(select(ApiKeyRow).order_by(ApiKeyRow.id.desc())).scalars())


def get_version(session: Session, version_id: int) -> VersionRow | None:
    """One version by id."""
    return session.get(VersionRow, version_id)


@dataclass(frozen=True)
class FeaturePair:
    """A feature of version a and its counterpart in version b (either may be missing)."""

    key: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    moved_m: float | None


def _pair_key(name_attribute: str) -> Any:
    """What pairs a feature across versions: the source ID, else the name."""
    return func.coalesce(FeatureRow.source_id, FeatureRow.properties[name_attribute].astext, "")


def pair_features(
    session: Session, old_id: int, new_id: int, *, name_attribute: str
) -> list[FeaturePair]:
    """Features of two versions paired by stable key (the source ID, else the name).

    Repeated keys pair in file order, so two rows with one ID are not reported as changed.
    """
    key = _pair_key(name_attribute)

    def side(version_id: int) -> Any:
        return (
            select(
                key.label("k"),
                func.row_number().over(partition_by=key, order_by=FeatureRow.id).label("n"),
                FeatureRow.properties.label("p"),
                FeatureRow.geom.label("g"),
            )
            .where(FeatureRow.version_id == version_id)
            .subquery()
        )

    a, b = side(old_id), side(new_id)
    moved = func.ST_Distance(
        func.geography(func.ST_PointOnSurface(a.c.g)), func.geography(func.ST_PointOnSurface(b.c.g))
    )
    statement = (
        select(func.coalesce(a.c.k, b.c.k), a.c.p, b.c.p, moved)
        .select_from(a.join(b, (a.c.k == b.c.k) & (a.c.n == b.c.n), full=True))
        .order_by(func.coalesce(a.c.k, b.c.k))
    )
    return [
        FeaturePair(k, old, new, None if m is None else float(m))
        for k, old, new, m in session.execute(statement)
    ]


def list_versions(
    session: Session, dataset_id: int, *, limit: int, offset: int = 0
) -> Sequence[VersionRow]:
    """A page of a dataset's versions, newest first."""
    statement = (
        select(VersionRow)
        .where(VersionRow.dataset_id == dataset_id)
        .order_by(VersionRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return session.execute(statement).scalars().all()


def find_dataset(session: Session, layer_id: str, municipality_code: str) -> DatasetRow | None:
    """The dataset of a layer and municipality, if it was ever uploaded to."""
    statement = select(DatasetRow).where(
        DatasetRow.layer_id == layer_id, DatasetRow.municipality_code == municipality_code
    )
    return session.execute(statement).scalar_one_or_none()


def version_features(
    session: Session, version_id: int
) -> Sequence[Row[tuple[str, dict[str, Any], int | None]]]:
    """A version's features as (GeoJSON geometry text, properties, source row), in file order."""
    statement = (
        select(func.ST_AsGeoJSON(FeatureRow.geom, 6), FeatureRow.properties, FeatureRow.source_row)
        .where(FeatureRow.version_id == version_id)
        .order_by(FeatureRow.id)
    )
    return session.execute(statement).all()


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset as "my datasets" lists it."""

    layer_id: str
    municipality_code: str
    version_id: int | None  # the published version; None when taken down or never published
    version_number: int | None  # its number within the dataset
    features: int | None
    published_at: datetime | None
    published_by: str | None
    staged: int  # versions uploaded and waiting


def dataset_summaries(session: Session, codes: Sequence[str]) -> list[DatasetSummary]:
    """Every dataset of these municipalities, with who published the current version."""
    rows = session.execute(
        text(
            "SELECT d.layer_id, d.municipality_code, v.id, v.number, v.feature_count,"
            " v.published_at,"
            " (SELECT a.actor FROM audit_log a WHERE a.version_id = v.id"
            "   AND a.action IN ('publish', 'rollback') ORDER BY a.id DESC LIMIT 1),"
            " (SELECT count(*) FROM version s WHERE s.dataset_id = d.id AND s.status = 'staged')"
            " FROM dataset d LEFT JOIN version v ON v.id = d.current_version_id"
            " WHERE d.municipality_code = ANY(:codes)"
        ),
        {"codes": list(codes)},
    ).all()
    return [DatasetSummary(*row) for row in rows]


def source_content(session: Session, sha256: str) -> bytes:
    """The bytes of a stored original file."""
    return bytes(
        session.execute(
            select(SourceFileRow.content).where(SourceFileRow.sha256 == sha256)
        ).scalar_one()
    )


def inner_point(session: Session, code: str) -> tuple[float, float] | None:
    """A point inside a municipality (lon, lat): where a map of it opens."""
    row = session.execute(
        select(
            func.ST_X(func.ST_PointOnSurface(MunicipalityRow.boundary)),
            func.ST_Y(func.ST_PointOnSurface(MunicipalityRow.boundary)),
        ).where(MunicipalityRow.code == code)
    ).first()
    return None if row is None or row[0] is None else (float(row[0]), float(row[1]))


def keyed_features(
    session: Session, version_id: int, *, name_attribute: str
) -> Sequence[Row[tuple[str, str, dict[str, Any], int | None]]]:
    """A version's features as (pairing key, GeoJSON geometry text, properties, source row).

    The key is the one ``pair_features`` pairs by, so a diff's items can be found on a map.
    """
    statement = (
        select(
            _pair_key(name_attribute),
            func.ST_AsGeoJSON(FeatureRow.geom, 6),
            FeatureRow.properties,
            FeatureRow.source_row,
        )
        .where(FeatureRow.version_id == version_id)
        .order_by(FeatureRow.id)
    )
    return session.execute(statement).all()
