"""A version is one file read with one set of options: the same bytes read another way are new.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Re-uploading a file with a corrected column mapping returned the old version unchanged.
    op.drop_constraint("uq_version_dataset_id", "version", type_="unique")
    op.create_unique_constraint(
        "uq_version_dataset_id", "version", ["dataset_id", "source_sha256", "options"]
    )


def downgrade() -> None:
    """Back to one version per file (fails if a file was since read two ways)."""
    op.drop_constraint("uq_version_dataset_id", "version", type_="unique")
    op.create_unique_constraint("uq_version_dataset_id", "version", ["dataset_id", "source_sha256"])
