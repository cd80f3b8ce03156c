"""Upload progress shared by every worker: an UNLOGGED table the upload writes and polls read.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_progress",
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_upload_progress")),
        prefixes=["UNLOGGED"],
    )
    op.create_index(op.f("ix_upload_progress_updated_at"), "upload_progress", ["updated_at"])


def downgrade() -> None:
    op.drop_table("upload_progress")
