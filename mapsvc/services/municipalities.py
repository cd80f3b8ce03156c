"""The prefecture's municipalities and wards, and what a ``municipality`` parameter means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from importers.codes import InvalidCode, to_code6
from mapsvc.db import queries
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.services.views import MunicipalityName


@dataclass(frozen=True)
class Scope:
    """Whose data a read covers: a dataset owner, and a ward to clip to (a designated city's)."""

    owner: str | None = None
    ward: str | None = None


def resolve_scope(session: Session, value: str | None) -> Scope:
    """The scope of a ``municipality`` parameter (5 or 6 digits; None: everyone's data).

    Datasets belong to municipalities; a ward of a designated city filters its city's datasets
    by the ward's boundary, since residents think in wards.
    """
    if value is None:
        return Scope()
    try:
        code = to_code6(value)
    except InvalidCode:
        raise InvalidParameter(
            "municipality は6桁の全国地方公共団体コードで指定してください",
            f"municipality must be a 6-digit local government code, not {value!r}",
        ) from None
    municipality = queries.get_municipality(session, code)
    if municipality is None:
        raise NotFound("その市区町村はありません", f"No municipality {code}")
    if municipality.kind == "ward":
        return Scope(owner=municipality.parent_code, ward=code)
    return Scope(owner=code)


def get_municipality(session: Session, code: str) -> MunicipalityName:
    """One municipality (or the prefecture) by its 6-digit code."""
    found = queries.get_municipality(session, code)
    if found is None:
        raise NotFound("その市区町村はありません", f"No municipality {code}")
    return MunicipalityName(found.code, found.name_ja, found.name_en)


def inner_point(session: Session, code: str) -> tuple[float, float]:
    """Where a map of the municipality opens (lon, lat): a point inside it."""
    return queries.inner_point(session, code) or (135.52, 34.69)  # else the prefecture office


def list_municipalities(session: Session) -> list[dict[str, Any]]:
    """Codes, names (ja/en), kinds and parents, in code order."""
    return [
        {
            "code": m.code,
            "name_ja": m.name_ja,
            "name_en": m.name_en,
            "kind": m.kind,
            "parent_code": m.parent_code,
        }
        for m in queries.list_municipalities(session)
    ]


def check_database(session: Session) -> None:
    """Raise (as Unavailable) unless the database answers."""
    queries.ping(session)
