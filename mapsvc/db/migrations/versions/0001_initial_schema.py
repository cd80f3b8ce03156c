"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# What the data model guarantees, enforced by the database for every client, the app included.
GUARANTEES = [
    # Readers only ever see published versions: the features a dataset's pointer designates.
    """
    CREATE VIEW published_feature AS
    SELECT f.id, f.version_id, f.source_id, f.properties, f.geom,
           d.id AS dataset_id, d.layer_id, d.municipality_code
    FROM dataset d JOIN feature f ON f.version_id = d.current_version_id
    """,
    # The audit log is insert-only.
    """
    CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is insert-only (% refused)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    "CREATE TRIGGER audit_log_insert_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
    # Features are never edited in place: a change is a new version.
    "CREATE TRIGGER feature_immutable BEFORE UPDATE ON feature "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    # A version's content is immutable; only its status and publication time move. Published or
    # retired versions are never deleted, so every publish can be rolled back to.
    """
    CREATE FUNCTION guard_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.status <> 'staged' THEN
                RAISE EXCEPTION 'version % was published and cannot be deleted', OLD.id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN OLD;
        END IF;
        IF (NEW.id, NEW.dataset_id, NEW.source_sha256, NEW.filename, NEW.format, NEW.options,
            NEW.feature_count, NEW.report, NEW.created_by, NEW.created_at)
           IS DISTINCT FROM
           (OLD.id, OLD.dataset_id, OLD.source_sha256, OLD.filename, OLD.format, OLD.options,
            OLD.feature_count, OLD.report, OLD.created_by, OLD.created_at) THEN
            RAISE EXCEPTION 'version % is immutable', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER version_guard BEFORE UPDATE OR DELETE ON version "
    "FOR EACH ROW EXECUTE FUNCTION guard_version()",
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # (version_id, geom) GiST index
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("layer_id", sa.Text(), nullable=True),
        sa.Column("municipality_code", sa.String(length=6), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "layer",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("geometry_type", sa.Text(), nullable=False),
        sa.Column("title_ja", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer")),
    )
    op.create_table(
        "municipality",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("parent_code", sa.String(length=6), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name_ja", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column(
            "boundary",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name=op.f("ck_municipality_code_format")),
        sa.CheckConstraint(
            "kind IN ('prefecture', 'designated_city', 'city', 'ward', 'town', 'village')",
            name=op.f("ck_municipality_kind"),
        ),
        sa.CheckConstraint(
            "boundary IS NULL OR (ST_IsValid(boundary) AND NOT ST_IsEmpty(boundary))",
            name=op.f("ck_municipality_boundary_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["municipality.code"],
            name=op.f("fk_municipality_parent_code_municipality"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_municipality")),
    )
    op.create_index(
        "ix_municipality_boundary",
        "municipality",
        ["boundary"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "source_file",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_source_file")),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Text(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("current_version_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["layer_id"], ["layer.id"], name=op.f("fk_dataset_layer_id_layer")),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipality.code"],
            name=op.f("fk_dataset_municipality_code_municipality"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("layer_id", "municipality_code", name=op.f("uq_dataset_layer_id")),
    )
    op.create_index(
        op.f("ix_dataset_municipality_code"), "dataset", ["municipality_code"], unique=False
    )
    op.create_table(
        "version",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column(
            "options", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("status", sa.Text(), server_default="staged", nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('staged', 'published', 'retired')", name=op.f("ck_version_status")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_version_dataset_id_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["source_sha256"],
            ["source_file.sha256"],
            name=op.f("fk_version_source_sha256_source_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version")),
        sa.UniqueConstraint("dataset_id", "source_sha256", name=op.f("uq_version_dataset_id")),
    )
    op.create_index(op.f("ix_version_dataset_id"), "version", ["dataset_id"], unique=False)
    op.create_table(
        "feature",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("version_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column("properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_feature_geom_valid")
        ),
        sa.CheckConstraint("ST_SRID(geom) = 4326", name=op.f("ck_feature_geom_srid")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["version.id"],
            name=op.f("fk_feature_version_id_version"),
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature")),
    )
    op.create_index(
        "ix_feature_version_geom",
        "feature",
        ["version_id", "geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_feature_version_source_id", "feature", ["version_id", "source_id"], unique=False
    )
    # dataset -> version -> dataset is a cycle: the pointer's key comes once both tables exist.
    op.create_foreign_key(
        op.f("fk_dataset_current_version_id_version"),
        "dataset",
        "version",
        ["current_version_id"],
        ["id"],
        deferrable=True,
        initially="DEFERRED",
    )
    for statement in GUARANTEES:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS published_feature")
    op.drop_constraint(op.f("fk_dataset_current_version_id_version"), "dataset", type_="foreignkey")
    op.drop_index("ix_feature_version_source_id", table_name="feature")
    op.drop_index("ix_feature_version_geom", table_name="feature", postgresql_using="gist")
    op.drop_table("feature")
    op.drop_index(op.f("ix_version_dataset_id"), table_name="version")
    op.drop_table("version")
    op.drop_index(op.f("ix_dataset_municipality_code"), table_name="dataset")
    op.drop_table("dataset")
    op.drop_table("source_file")
    op.drop_index("ix_municipality_boundary", table_name="municipality", postgresql_using="gist")
    op.drop_table("municipality")
    op.drop_table("layer")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION IF EXISTS refuse_change(), guard_version()")
