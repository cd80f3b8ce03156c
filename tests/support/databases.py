"""Scratch databases for tests whose work is committed (subprocesses, crash recovery)."""

from __future__ import annotations

import secrets

from pydantic import SecretStr
from sqlalchemy import Engine, make_url

from layers import load_catalog
from mapsvc.db.engine import create_database, make_engine, make_sessionmaker
from mapsvc.services.setup import upgrade_database
from mapsvc.settings import Settings


def seeded_database(settings: Settings, server_url: str) -> tuple[Settings, Engine, str]:
    """A fresh database (schema and reference data, no demo) on the server of ``server_url``."""
    name = f"scratch_{secrets.token_hex(3)}"
    create_database(server_url, name)
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    settings = settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": SecretStr(url), "name": name})
        }
    )
    engine = make_engine(url, settings.database)
    upgrade_database(engine, make_sessionmaker(engine), catalog=load_catalog(), settings=settings)
    return settings, engine, name
