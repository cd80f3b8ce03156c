"""Alembic environment: migrations run on the connection (or URL) mapsvc hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from mapsvc.db.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(
    _obj: object, _name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # PostGIS and its extensions own tables of their own (spatial_ref_sys, topology, tiger...).
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    """Run against ``config.attributes["connection"]`` or the ``sqlalchemy.url`` option."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_object=_include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=target_metadata, include_object=_include_object
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
