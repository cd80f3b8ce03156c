"""Read SQL for search: features by name or address, municipalities by name.

Both sides are NFKC-normalised and lower-cased, so full-width ``ＡＥＤ１`` finds ``AED1`` and
half-width ``ｵｵｻｶ`` finds ``オオサカ``. At demo size (about 14,000 features) a scan takes a few
milliseconds; a trigram index over the same expression is the next step for larger data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, case, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from mapsvc.db.features import f, public_id
from mapsvc.db.models import MunicipalityRow

ADDRESS = "address"  # the catalog's shared attribute name for addresses


def _folded(value: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[str]:
    # NFKC is a keyword of normalize(), not a value: it cannot be a bound parameter.
    return func.lower(func.normalize(value, literal_column("NFKC")))


def _like(
    value: ColumnElement[Any] | InstrumentedAttribute[Any], pattern: str
) -> ColumnElement[bool]:
    return _folded(value).like(pattern, escape="\\")


def features(
    session: Session, name_attributes: Mapping[str, str], *, pattern: str, limit: int
) -> Sequence[Row[tuple[str, str, str, str | None, float, float]]]:
    """(layer, id, name, address, lon, lat) of published features whose name or address matches.

    ``name_attributes`` maps each searched layer to its name attribute; names that start with
    the text come first, then shorter names.
    """
    name = case(
        *((f.layer_id == layer, f.properties[attribute].astext)
          for layer, attribute in name_attributes.items())
    )  # fmt: skip
    address = f.properties[ADDRESS].astext
    where = f.layer_id.in_(list(name_attributes))
    spot = func.ST_PointOnSurface(f.geom)
    statement = (
        select(f.layer_id, public_id(), name, address, func.ST_X(spot), func.ST_Y(spot))
        .where(where, or_(_like(name, pattern), _like(address, pattern)))
        .order_by(_like(name, pattern.lstrip("%")).desc(), func.length(name), name)
        .limit(limit)
    )
    return session.execute(statement).all()


def municipalities(session: Session, pattern: str, limit: int) -> Sequence[Row[Any]]:
    """(code, kind, name_ja, name_en, west, south, east, north) of municipalities and wards whose name matches."""
    box = func.ST_Envelope(MunicipalityRow.boundary)
    statement = (
        select(
            MunicipalityRow.code,
            MunicipalityRow.kind,
            MunicipalityRow.name_ja,
            MunicipalityRow.name_en,
            func.ST_XMin(box),
            func.ST_YMin(box),
            func.ST_XMax(box),
            func.ST_YMax(box),
        )
        .where(
            MunicipalityRow.kind != "prefecture",
            or_(_like(MunicipalityRow.name_ja, pattern), _like(MunicipalityRow.name_en, pattern)),
        )
        .order_by(func.length(MunicipalityRow.name_ja), MunicipalityRow.code)
        .limit(limit)
    )
    return session.execute(statement).all()
