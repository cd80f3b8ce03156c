"""Versions are numbered per dataset (1, 2, 3… for each layer × municipality).

Staff saw the global version id ("版 187" for a municipality's first upload). The id stays the
identifier in URLs and the API; ``version.number`` is what people read. It is stored, not
computed when read (row_number over the dataset's versions), because a staged version may be
deleted: a computed number would renumber the versions after it, and "版 3" in yesterday's mail
would name another file today. ``dataset.versions_made`` hands the numbers out: the UPDATE
that takes the next one locks the dataset row, so two uploads at once get two numbers.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

GUARD = """
CREATE OR REPLACE FUNCTION guard_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'staged' THEN
            RAISE EXCEPTION 'version % was published and cannot be deleted', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.dataset_id, NEW.source_sha256, NEW.filename, NEW.format, NEW.options,
        NEW.feature_count, NEW.report, NEW.created_by, NEW.created_at{number})
       IS DISTINCT FROM
       (OLD.id, OLD.dataset_id, OLD.source_sha256, OLD.filename, OLD.format, OLD.options,
        OLD.feature_count, OLD.report, OLD.created_by, OLD.created_at{old_number}) THEN
        RAISE EXCEPTION 'version % is immutable', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE dataset ADD COLUMN versions_made integer NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE version ADD COLUMN number integer")
    op.execute(
        "UPDATE version v SET number = n.number FROM (SELECT id, row_number() OVER "
        "(PARTITION BY dataset_id ORDER BY id) AS number FROM version) n WHERE v.id = n.id"
    )
    op.execute(
        "UPDATE dataset d SET versions_made = coalesce("
        "(SELECT max(number) FROM version v WHERE v.dataset_id = d.id), 0)"
    )
    op.execute("ALTER TABLE version ALTER COLUMN number SET NOT NULL")
    op.execute(
        "ALTER TABLE version ADD CONSTRAINT uq_version_dataset_id_number UNIQUE (dataset_id, number)"
    )
    op.execute(GUARD.format(number=", NEW.number", old_number=", OLD.number"))


def downgrade() -> None:
    op.execute(GUARD.format(number="", old_number=""))
    op.execute("ALTER TABLE version DROP COLUMN number")
    op.execute("ALTER TABLE dataset DROP COLUMN versions_made")
