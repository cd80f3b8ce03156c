"""One role set for people and API keys, and the staff's notices.

An API key's ``editor`` could publish while a person's ``editor`` could not. Keys and people now
share one role set (viewer, status, editor, publisher, admin: ``mapsvc.services.roles``), and an
editor may only upload. Existing editor keys that ever published, rolled back or took down
(the audit log names them ``key:<prefix>``) become ``publisher`` keys, so that the machines that
publish keep working; the others stay ``editor`` and can no longer publish (README, upgrading).

``staff_notice`` holds what staff should act on (first: an editor's request to publish).

Revision ID: 0014
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

ROLES = "role IN ('viewer', 'status', 'editor', 'publisher', 'admin')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_api_key_role"), "api_key", type_="check")
    op.create_check_constraint(op.f("ck_api_key_role"), "api_key", ROLES)
    op.drop_constraint(op.f("ck_staff_role_role"), "staff_role", type_="check")
    op.create_check_constraint(op.f("ck_staff_role_role"), "staff_role", ROLES)
    op.execute(
        "UPDATE api_key k SET role = 'publisher' WHERE k.role = 'editor' AND EXISTS ("
        "SELECT 1 FROM audit_log a WHERE a.actor = 'key:' || k.prefix "
        "AND a.action IN ('publish', 'rollback', 'take_down') AND a.result = 'ok')"
    )
    op.create_table(
        "staff_notice",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column(
            "municipality_code",
            sa.String(6),
            sa.ForeignKey(
                "municipality.code", name=op.f("fk_staff_notice_municipality_code_municipality")
            ),
            nullable=False,
        ),
        sa.Column("layer_id", sa.Text(), nullable=True),
        sa.Column(
            "version_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "version.id", ondelete="CASCADE", name=op.f("fk_staff_notice_version_id_version")
            ),
            nullable=True,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "detail", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('publish_request')", name=op.f("ck_staff_notice_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notice")),
    )
    op.create_index(
        "ix_staff_notice_open",
        "staff_notice",
        ["municipality_code"],
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("staff_notice")
    op.execute("UPDATE api_key SET role = 'editor' WHERE role NOT IN ('editor', 'admin')")
    op.drop_constraint(op.f("ck_api_key_role"), "api_key", type_="check")
    op.create_check_constraint(op.f("ck_api_key_role"), "api_key", "role IN ('editor', 'admin')")
    op.execute("UPDATE staff_role SET role = 'viewer' WHERE role = 'status'")
    op.drop_constraint(op.f("ck_staff_role_role"), "staff_role", type_="check")
    op.create_check_constraint(
        "ck_staff_role_role", "staff_role", "role IN ('viewer', 'editor', 'publisher', 'admin')"
    )
