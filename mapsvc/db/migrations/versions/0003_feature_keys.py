"""Stable public feature ids: a key unique within each version.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feature", sa.Column("feature_key", sa.Text(), nullable=True))
    op.execute("ALTER TABLE feature DISABLE TRIGGER feature_immutable")  # this one backfill only
    # Existing rows: the source ID, "~n" on repeats, else the file row (the rule the importer uses).
    op.execute(
        """
        UPDATE feature f SET feature_key = k.key FROM (
            SELECT id, CASE
                WHEN source_id IS NULL THEN 'r' || coalesce(source_row, id)
                WHEN row_number() OVER w = 1 THEN source_id
                ELSE source_id || '~' || row_number() OVER w END AS key
            FROM feature WINDOW w AS (PARTITION BY version_id, source_id ORDER BY id)
        ) k WHERE k.id = f.id
        """
    )
    op.execute("ALTER TABLE feature ENABLE TRIGGER feature_immutable")
    op.alter_column("feature", "feature_key", nullable=False)
    op.create_index("uq_feature_version_key", "feature", ["version_id", "feature_key"], unique=True)
    op.execute(
        """
        CREATE OR REPLACE VIEW published_feature AS
        SELECT f.id, f.version_id, f.source_id, f.properties, f.geom,
               d.id AS dataset_id, d.layer_id, d.municipality_code, f.feature_key, f.source_row
        FROM dataset d JOIN feature f ON f.version_id = d.current_version_id
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW published_feature")
    op.execute(
        "CREATE VIEW published_feature AS SELECT f.id, f.version_id, f.source_id, f.properties, "
        "f.geom, d.id AS dataset_id, d.layer_id, d.municipality_code "
        "FROM dataset d JOIN feature f ON f.version_id = d.current_version_id"
    )
    op.drop_index("uq_feature_version_key", table_name="feature")
    op.drop_column("feature", "feature_key")
