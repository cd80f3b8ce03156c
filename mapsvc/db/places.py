"""Read SQL for point questions: nearest features, what is at a point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, literal_column, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, defer

from mapsvc.db.features import f, public_id
from mapsvc.db.models import DatasetRow, MunicipalityRow, ShelterStatusCurrentRow

CANDIDATES = 8  # planar nearest-neighbour candidates per result, re-ranked by geodesic distance


def _point(lon: float, lat: float) -> Any:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def nearest(
    session: Session,
    layer_id: str,
    *,
    lon: float,
    lat: float,
    limit: int,
    equals: dict[str, Any],
    flags: Sequence[str] = (),
    flagged: bool = True,
    open_only: bool = False,
) -> Sequence[Row[tuple[str, str, str, float, str]]]:
    """The ``limit`` nearest published features.

    Each as (id, geometry JSON, properties JSON, metres, the publishing municipality's code).

    With ``flags``, only the features with any of these flags set (``flagged``) or with none of
    them (not ``flagged``). ``open_only``: only sites whose current real status is open or
    permanent and that can take people (not 受け入れ不可). The GiST index orders by planar
    distance in degrees; a wider candidate set is re-ranked by the true (geodesic) distance,
    since a degree of longitude is shorter than one of latitude.
    """
    point = _point(lon, lat)
    candidates = (
        select(
            public_id().label("id"),
            f.geom.label("geom"),
            f.properties.label("properties"),
            f.municipality_code.label("municipality_code"),
        )
        .where(f.layer_id == layer_id)
        .order_by(f.geom.op("<->")(point))
        .limit(limit * CANDIDATES)
    )
    if equals:
        candidates = candidates.where(f.properties.op("@>")(type_coerce(equals, JSONB)))
    if flags:
        any_set = or_(*(f.properties.op("@>")(type_coerce({flag: True}, JSONB)) for flag in flags))
        candidates = candidates.where(any_set if flagged else ~any_set)
    if open_only:
        candidates = candidates.where(_open_now())
    c = candidates.subquery()
    distance = func.ST_Distance(func.geography(c.c.geom), func.geography(point))
    statement = (
        select(
            c.c.id,
            func.ST_AsGeoJSON(c.c.geom, 6),
            c.c.properties.op("::")(literal_column("text")),
            distance,
            c.c.municipality_code,
        )
        .order_by(distance)
        .limit(limit)
    )
    return session.execute(statement).all()


# EEI 開設状況 values in which a site takes people: 開設 and 常設.
OPEN_STATUSES = ("open", "permanent")


def _open_now() -> Any:
    """The feature's site is open for real now.

    A filter inside the nearest-neighbour scan, so the index walks on until enough open sites
    are found.
    """
    s = ShelterStatusCurrentRow
    return (
        select(s.feature_key)
        .where(
            s.layer_id == f.layer_id,
            s.municipality_code == f.municipality_code,
            s.feature_key == f.feature_key,
            s.mode == "real",
            s.status.in_(OPEN_STATUSES),
            s.accepting.is_not(False),
        )
        .exists()
    )


def municipalities_at(session: Session, lon: float, lat: float) -> Sequence[MunicipalityRow]:
    """The municipality and ward (if any) covering the point, ward first.

    Without their boundaries: exact ones are thousands of vertices, not worth sending back.
    """
    statement = (
        select(MunicipalityRow)
        .options(defer(MunicipalityRow.boundary))
        .where(
            MunicipalityRow.kind != "prefecture",
            func.ST_Covers(MunicipalityRow.boundary, _point(lon, lat)),
        )
        .order_by((MunicipalityRow.kind == "ward").desc())
    )
    return session.execute(statement).scalars().all()


def published_owners(session: Session, layer_id: str, codes: Sequence[str]) -> list[str]:
    """Which of ``codes`` have published data in the layer."""
    statement = select(DatasetRow.municipality_code).where(
        DatasetRow.layer_id == layer_id,
        DatasetRow.municipality_code.in_(codes),
        DatasetRow.current_version_id.is_not(None),
    )
    return list(session.execute(statement).scalars())


def designates(session: Session, layer_id: str, municipality_code: str, flag: str) -> bool:
    """Whether the municipality has published any feature of the layer with ``flag`` true."""
    statement = select(
        select(f.id)
        .where(
            f.layer_id == layer_id,
            f.municipality_code == municipality_code,
            f.properties.op("@>")(type_coerce({flag: True}, JSONB)),
        )
        .exists()
    )
    return bool(session.execute(statement).scalar())


def features_at(session: Session, layer_id: str, *, lon: float, lat: float) -> list[dict[str, Any]]:
    """Properties of the layer's published features covering the point, whoever published them."""
    statement = select(f.properties).where(
        f.layer_id == layer_id, func.ST_Covers(f.geom, _point(lon, lat))
    )
    return list(session.execute(statement).scalars())
