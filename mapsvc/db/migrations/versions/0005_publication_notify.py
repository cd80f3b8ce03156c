"""Tell listeners when published data changes (NOTIFY), so response caches can drop at once.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Statement-level: one notice per publish, rollback or boundary update, delivered at commit
# (and not at all if the transaction rolls back). Whatever path changes what is published —
# API, CLI, demo loader, a DBA's UPDATE — caches hear of it.
FUNCTION = """
CREATE FUNCTION notify_publication() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mapsvc_publication', TG_TABLE_NAME);
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    for table in ("dataset", "municipality"):
        op.execute(
            f"CREATE TRIGGER {table}_notify_publication AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION notify_publication()"
        )


def downgrade() -> None:
    for table in ("dataset", "municipality"):
        op.execute(f"DROP TRIGGER {table}_notify_publication ON {table}")
    op.execute("DROP FUNCTION notify_publication()")
