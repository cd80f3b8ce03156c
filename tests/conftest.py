"""Fixtures: a throwaway PostGIS database with the seed and demo data, one transaction per test.

The database is real: the embedded cluster (the same manager `mapsvc serve` uses) or, when
MAPSVC_DATABASE__URL is set, a database created next to the one it names. A database that
cannot be reached fails the run; nothing is skipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from layers import Catalog, load_catalog
from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from mapsvc.db.engine import (
    create_database,
    database_url,
    drop_database,
    make_engine,
    make_sessionmaker,
)
from mapsvc.embedded import EmbeddedCluster
from mapsvc.services.demo import DemoResult, load_demo
from mapsvc.services.keys import auth_secret, create_key
from mapsvc.services.setup import upgrade_database
from mapsvc.settings import Settings
from tests.support.databases import seeded_database


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def test_settings() -> Iterator[Settings]:
    """Settings pointing at a fresh database, dropped after the run."""
    base = Settings()
    name = f"mapsvc_test_{secrets.token_hex(4)}"
    cluster = None if base.database.url else EmbeddedCluster.from_settings(base.database)
    started = cluster.start() if cluster else False
    server_url = database_url(base.database)
    create_database(server_url, name)
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    settings = base.model_copy(
        update={
            "database": base.database.model_copy(update={"url": SecretStr(url), "name": name}),
            "auth": base.auth.model_copy(update={"secret": SecretStr("test-secret")}),
            # In-process tests share one rolled-back transaction per test, unseen by the
            # publication watch: what it remembers would carry one test's data into the next.
            # Live servers keep the defaults (on).
            "api": base.api.model_copy(update={"publication_watch": False}),
        }
    )
    yield settings
    drop_database(server_url, name)
    if cluster and started:
        cluster.stop()


@pytest.fixture(scope="session")
def engine(test_settings: Settings, catalog: Catalog) -> Iterator[Engine]:
    engine = make_engine(database_url(test_settings.database), test_settings.database)
    upgrade_database(engine, make_sessionmaker(engine), catalog=catalog, settings=test_settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo(engine: Engine, catalog: Catalog, test_settings: Settings) -> DemoResult:
    """The demo data set, loaded once (committed) into the test database."""
    return load_demo(make_sessionmaker(engine), catalog, test_settings.demo_manifest, test_settings)


@pytest.fixture
def session(engine: Engine, demo: DemoResult) -> Iterator[Session]:
    """A session whose work is rolled back after the test, even where services commit."""
    with engine.connect() as conn, conn.begin() as outer:
        with Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as s:
            yield s
        outer.rollback()


@pytest.fixture
def client(session: Session, test_settings: Settings) -> Iterator[TestClient]:
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


@pytest.fixture
def keys(session: Session, test_settings: Settings) -> dict[str, str]:
    """API keys (rolled back with the test): publishers of Kishiwada, Sakai and the prefecture, the
    prefecture's admin, and an editor of Kishiwada (uploads, may not publish)."""
    secret = auth_secret(test_settings)
    made = {}
    for name, code, role in (
        ("kishiwada", "272027", "publisher"),
        ("sakai", "271403", "publisher"),
        ("admin", "270008", "admin"),
        ("prefecture", "270008", "publisher"),
        ("kishiwada_editor", "272027", "editor"),
    ):
        made[name], _ = create_key(
            session, secret, municipality_code=code, role=role, label=name, actor="test"
        )
    # Committed, as real keys are before any request: a rejected upload's rollback must not take
    # them (the test's outer transaction still rolls everything back).
    session.commit()
    return made


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def scratch(test_settings: Settings, engine: Engine) -> Iterator[tuple[Settings, Engine]]:
    """A fresh seeded database (no demo data) whose commits cannot disturb other tests."""
    server = test_settings.database.url.get_secret_value()
    settings, scratch_engine, name = seeded_database(test_settings, server)
    yield settings, scratch_engine
    scratch_engine.dispose()
    drop_database(server, name)
