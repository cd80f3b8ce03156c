"""Bring a database to a serving state: schema, catalog, municipalities, boundary layer."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from layers import Catalog
from mapsvc.db.migrate import upgrade
from mapsvc.services.seed import SeedManifest, publish_boundaries, seed_municipalities, sync_layers
from mapsvc.settings import Settings


def upgrade_database(
    engine: Engine, sessions: sessionmaker[Session], *, catalog: Catalog, settings: Settings
) -> None:
    """Apply migrations, then synchronise reference data (idempotent, one transaction)."""
    upgrade(engine)
    manifest = SeedManifest.read(settings.seed_manifest)
    with sessions() as session, session.begin():
        sync_layers(session, catalog)
        seed_municipalities(session, manifest)
        publish_boundaries(session, catalog, manifest.prefecture)
