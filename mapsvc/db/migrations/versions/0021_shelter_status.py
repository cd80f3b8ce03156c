"""Shelter status (an append-only stream of events and the current state per site) and emergencies.

Status is kept apart from the published file versions (a new version keeps the status of every
site it keeps, by key): correcting a site's address must never look like "opened". Codes follow
the Cabinet Office's 災害対応基本共有情報 (EEI) v1.1, item 21 避難所; modes L-Alert's 本番/訓練/テスト.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
MODES = "mode IN ('real', 'drill', 'test')"
STATUSES = "status IN ('not_opened', 'open', 'closed', 'unknown', 'permanent')"
SITE = ("layer_id", "municipality_code", "feature_key", "mode")


def _site_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("layer_id", sa.Text(), sa.ForeignKey("layer.id"), nullable=False),
        sa.Column(
            "municipality_code", sa.String(6), sa.ForeignKey("municipality.code"), nullable=False
        ),
        sa.Column("feature_key", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("evacuees", sa.Integer()),
        sa.Column("capacity", sa.Integer()),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    ]


def _checks(table: str) -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(MODES, name=op.f(f"ck_{table}_mode")),
        sa.CheckConstraint(STATUSES, name=op.f(f"ck_{table}_status")),
        sa.CheckConstraint("evacuees >= 0", name=op.f(f"ck_{table}_evacuees")),
        sa.CheckConstraint("capacity > 0", name=op.f(f"ck_{table}_capacity")),
    ]


def upgrade() -> None:
    op.create_table(
        "shelter_status_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        *_site_columns(),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("change_id", UUID(as_uuid=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelter_status_event")),
        sa.UniqueConstraint("change_id", name=op.f("uq_shelter_status_event_change_id")),
        *_checks("shelter_status_event"),
    )
    op.create_index("ix_shelter_status_event_site", "shelter_status_event", [*SITE, "id"])
    # History is never edited: a mistaken change is undone by the next event.
    op.execute(
        "CREATE TRIGGER shelter_status_event_insert_only BEFORE UPDATE OR DELETE "
        "ON shelter_status_event FOR EACH ROW EXECUTE FUNCTION refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER shelter_status_event_no_truncate BEFORE TRUNCATE "
        "ON shelter_status_event FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
    )
    op.create_table(
        "shelter_status_current",
        *_site_columns(),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(*SITE, name=op.f("pk_shelter_status_current")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["shelter_status_event.id"],
            name=op.f("fk_shelter_status_current_event_id_shelter_status_event"),
        ),
        *_checks("shelter_status_current"),
    )
    op.create_table(
        "emergency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "municipality_code", sa.String(6), sa.ForeignKey("municipality.code"), nullable=False
        ),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("hazard", sa.Text(), nullable=False),
        sa.Column("alert_level", sa.SmallInteger(), nullable=False),
        sa.Column("message_ja", sa.Text(), server_default="", nullable=False),
        sa.Column("message_en", sa.Text(), server_default="", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_by", sa.Text()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency")),
        sa.CheckConstraint(MODES, name=op.f("ck_emergency_mode")),
        sa.CheckConstraint("alert_level BETWEEN 1 AND 5", name=op.f("ck_emergency_alert_level")),
    )
    op.create_index(
        "uq_emergency_one_open",
        "emergency",
        ["municipality_code", "mode"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    # A status change or an emergency changes what residents read: response caches hear of it
    # as of a publish (the publication watch's channel, migration 0005).
    for table in ("shelter_status_current", "emergency"):
        op.execute(
            f"CREATE TRIGGER {table}_notify_publication AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION notify_publication()"
        )


def downgrade() -> None:
    op.drop_table("emergency")
    op.drop_table("shelter_status_current")
    op.drop_table("shelter_status_event")
