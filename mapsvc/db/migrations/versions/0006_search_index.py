"""Search text: each feature's name, reading and address folded once, with a trigram index.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# A frozen copy of mapsvc.db.search's fold, so this migration never changes after the fact (a
# test holds the two to the same result): NFKC, lower case, hiragana as katakana, small kana as
# full-size ones. Folding in SQL (translate) cost ~15 µs a row on every search; once per
# feature at write time it costs nothing at read time.
_TABLE = str.maketrans(
    "".join(chr(c) for c in range(0x3041, 0x3097)) + "ァィゥェォッャュョヮヵヶ",
    "".join(chr(c + 0x60) for c in range(0x3041, 0x3097)) + "アイウエオツヤユヨワカケ",
)


def search_text(properties: dict[str, object]) -> str:
    """Name, reading and address, folded, joined by newlines (a match never spans two)."""
    fields = (properties.get(key) for key in ("name", "name_kana", "address"))
    joined = "\n".join("" if value is None else str(value) for value in fields)
    return unicodedata.normalize("NFKC", joined).lower().translate(_TABLE).translate(_TABLE)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column("feature", sa.Column("search_text", sa.Text(), nullable=True))
    connection = op.get_bind()
    op.execute("ALTER TABLE feature DISABLE TRIGGER feature_immutable")  # this one backfill only
    rows = connection.execute(sa.text("SELECT id, properties::text FROM feature")).all()
    for start in range(0, len(rows), 5000):
        connection.execute(
            sa.text("UPDATE feature SET search_text = :text WHERE id = :id"),
            [{"id": i, "text": search_text(json.loads(p))} for i, p in rows[start : start + 5000]],
        )
    op.execute("ALTER TABLE feature ENABLE TRIGGER feature_immutable")
    # Trigrams of Japanese text need a UTF-8 LC_CTYPE (create_database asks for C.UTF-8); under
    # the C locale pg_trgm takes none, the index stays unused and search scans the column.
    op.execute("CREATE INDEX ix_feature_search ON feature USING gin (search_text gin_trgm_ops)")
    op.execute(
        """
        CREATE OR REPLACE VIEW published_feature AS
        SELECT f.id, f.version_id, f.source_id, f.properties, f.geom,
               d.id AS dataset_id, d.layer_id, d.municipality_code, f.feature_key, f.source_row,
               f.search_text
        FROM dataset d JOIN feature f ON f.version_id = d.current_version_id
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW published_feature")
    op.execute(
        """
        CREATE VIEW published_feature AS
        SELECT f.id, f.version_id, f.source_id, f.properties, f.geom,
               d.id AS dataset_id, d.layer_id, d.municipality_code, f.feature_key, f.source_row
        FROM dataset d JOIN feature f ON f.version_id = d.current_version_id
        """
    )
    op.drop_index("ix_feature_search", table_name="feature")
    op.drop_column("feature", "search_text")
