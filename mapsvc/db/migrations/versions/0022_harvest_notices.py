"""Notices of the harvest: a fetched version waits for a person; a source keeps failing.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_staff_notice_kind"), "staff_notice", type_="check")
    op.create_check_constraint(
        op.f("ck_staff_notice_kind"),
        "staff_notice",
        "kind IN ('publish_request', 'harvest_review', 'harvest_failing')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM staff_notice WHERE kind IN ('harvest_review', 'harvest_failing')")
    op.drop_constraint(op.f("ck_staff_notice_kind"), "staff_notice", type_="check")
    op.create_check_constraint(
        op.f("ck_staff_notice_kind"), "staff_notice", "kind IN ('publish_request')"
    )
