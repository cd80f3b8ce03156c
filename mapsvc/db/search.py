"""Read SQL for search: features by name, reading or address, municipalities by name.

Both sides are folded the same way (one table): NFKC, lower case, hiragana as katakana and small
kana as full-size ones, so full-width ``ＡＥＤ１`` finds ``AED1``, ``ｵｵｻｶ`` finds ``オオサカ``,
``うめだ`` finds ``ウメダ`` and ``きっず`` finds ``キッズ``. Features are matched on the folded
text stored with each of them when it is written (``search_text``, trigram-indexed: 10 ms at
100,000 features for three or more characters); the 75 municipalities are folded in SQL
(``_folded``). pg_trgm takes trigrams from Japanese only in a database with a UTF-8 LC_CTYPE.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, case, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from mapsvc.db.features import f, public_id
from mapsvc.db.models import MunicipalityRow

ADDRESS = "address"  # the catalog's shared attribute names for addresses and readings
READING = "name_kana"

# Kana that people type interchangeably: hiragana for katakana, small kana for full-size ones.
_HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097))
_KATAKANA = "".join(chr(c + 0x60) for c in range(0x3041, 0x3097))
_SMALL, _FULL = "ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ"
FOLD_FROM, FOLD_TO = _HIRAGANA + _SMALL, _KATAKANA + _FULL
_ONCE = str.maketrans(FOLD_FROM, FOLD_TO)
# Both passes of SQL's translate() in one table: ぁ → ァ → ア.
_FOLD_TABLE = {c: chr(c).translate(_ONCE).translate(_ONCE) for c in map(ord, FOLD_FROM)}


def search_text(properties: Mapping[str, Any]) -> str:
    """What a feature is found by: name, reading and address, folded, joined by newlines.

    Stored with each feature (a newline is never in a typed pattern, so no match spans two).
    """
    fields = [properties.get("name"), properties.get(READING), properties.get(ADDRESS)]
    return fold("\n".join(["" if value is None else str(value) for value in fields]))


def fold(text: str) -> str:
    """The search form of ``text``: what ``_folded`` makes of a column, done in Python.

    Hiragana become katakana first, then small kana full-size ones (``っ`` → ``ッ`` → ``ツ``).
    """
    return unicodedata.normalize("NFKC", text).lower().translate(_FOLD_TABLE)


def _folded(value: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[str]:
    # NFKC is a keyword of normalize(), not a value: it cannot be a bound parameter. translate()
    # maps character by character, so hiragana→katakana→full-size takes two passes, as in fold.
    once = func.translate(
        func.lower(func.normalize(value, literal_column("NFKC"))), FOLD_FROM, FOLD_TO
    )
    return func.translate(once, FOLD_FROM, FOLD_TO)


def _like(
    value: ColumnElement[Any] | InstrumentedAttribute[Any], pattern: str
) -> ColumnElement[bool]:
    return _folded(value).like(pattern, escape="\\")


def features(
    session: Session, name_attributes: Mapping[str, str], *, pattern: str, limit: int
) -> Sequence[Row[tuple[str, str, str, str | None, float, float]]]:
    """(layer, id, name, address, lon, lat) of features whose name, reading or address matches.

    ``pattern`` is a folded LIKE pattern (``services.search.like_pattern``).

    ``name_attributes`` maps each searched layer to its name attribute; names that start with
    the text come first, then shorter names.
    """
    name = case(
        *(
            (f.layer_id == layer, f.properties[attribute].astext)
            for layer, attribute in name_attributes.items()
        )
    )
    address = f.properties[ADDRESS].astext
    where = f.layer_id.in_(list(name_attributes))
    spot = func.ST_PointOnSurface(f.geom)
    # The folded text stored with each feature (trigram-indexed); it starts with the name.
    matches = f.search_text.like(pattern, escape="\\")
    starts = f.search_text.like(pattern.lstrip("%"), escape="\\")
    statement = (
        select(f.layer_id, public_id(), name, address, func.ST_X(spot), func.ST_Y(spot))
        .where(where, matches)
        .order_by(starts.desc(), func.length(name), name)
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
