"""At most one published version per dataset, enforced by the database.

A rollback racing an upload-with-publish could leave two versions of one dataset "published"
(the lock returned the dataset row as loaded before it, with a stale current version). The lock
is fixed in ``writes.lock_dataset``; this index makes the state impossible whatever the code does.
Any dataset that already has more than one keeps the one its pointer names; the others retire.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE version v SET status = 'retired' FROM dataset d "
        "WHERE v.dataset_id = d.id AND v.status = 'published' "
        "AND v.id IS DISTINCT FROM d.current_version_id"
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_version_one_published_per_dataset ON version (dataset_id) "
        "WHERE status = 'published'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_version_one_published_per_dataset")
