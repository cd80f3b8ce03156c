"""Harvest sources (one per dataset, also the harvest job) and their fetch history.

Revision ID: 0020 (renumbered at merge)
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020"
down_revision = "0014"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "harvest_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text()),
        sa.Column("pick", JSONB(), server_default="{}", nullable=False),
        sa.Column("options", JSONB(), server_default="{}", nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("max_removed_share", sa.Float(), server_default=sa.text("0.2"), nullable=False),
        sa.Column("max_move_m", sa.Float(), server_default=sa.text("1000"), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("flagged", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("needs_person", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("last_sha256", sa.String(64)),
        sa.Column("last_checked_at", sa.DateTime(timezone=True)),
        sa.Column("last_changed_at", sa.DateTime(timezone=True)),
        sa.Column("problem_ja", sa.Text()),
        sa.Column("problem_en", sa.Text()),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_source")),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_harvest_source_dataset_id_dataset")
        ),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_harvest_source_dataset_id")),
        sa.CheckConstraint(
            "kind IN ('file', 'ckan', 'bodik')", name=op.f("ck_harvest_source_kind")
        ),
        sa.CheckConstraint(
            "max_removed_share BETWEEN 0 AND 1", name=op.f("ck_harvest_source_max_removed_share")
        ),
        sa.CheckConstraint("max_move_m >= 0", name=op.f("ck_harvest_source_max_move_m")),
    )
    op.create_index(
        "ix_harvest_source_due",
        "harvest_source",
        ["next_run_at"],
        postgresql_where=sa.text("NOT paused"),
    )
    op.create_table(
        "harvest_fetch",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("http_status", sa.SmallInteger()),
        sa.Column("bytes", sa.BigInteger()),
        sa.Column("sha256", sa.String(64)),
        sa.Column("version_id", sa.BigInteger()),
        sa.Column("message_ja", sa.Text()),
        sa.Column("message_en", sa.Text()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_fetch")),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["harvest_source.id"],
            name=op.f("fk_harvest_fetch_source_id_harvest_source"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "outcome IN ('unchanged', 'published', 'staged', 'rejected', 'failed')",
            name=op.f("ck_harvest_fetch_outcome"),
        ),
    )
    op.create_index("ix_harvest_fetch_source_at", "harvest_fetch", ["source_id", "at"])


def downgrade() -> None:
    op.drop_table("harvest_fetch")
    op.drop_table("harvest_source")
