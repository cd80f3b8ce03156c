"""Tile-ready geometry: pre-generalised, subdivided EPSG:3857 copies per zoom band.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from mapsvc.db.tiles import build_tile_geometry

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tile_geom",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("version_id", sa.BigInteger(), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column(
            "geom", geoalchemy2.types.Geometry(srid=3857, spatial_index=False), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["feature_id"],
            ["feature.id"],
            name=op.f("fk_tile_geom_feature_id_feature"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["version.id"],
            name=op.f("fk_tile_geom_version_id_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tile_geom")),
    )
    op.create_index(
        "ix_tile_geom_version_band_geom",
        "tile_geom",
        ["version_id", "band", "geom"],
        postgresql_using="gist",
    )
    # Versions published before this revision get their tile geometry now.
    session = Session(bind=op.get_bind())
    for version_id in session.execute(
        sa.text("SELECT current_version_id FROM dataset WHERE current_version_id IS NOT NULL")
    ).scalars():
        build_tile_geometry(session, version_id)
    session.flush()


def downgrade() -> None:
    op.drop_table("tile_geom")
