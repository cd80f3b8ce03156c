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
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from layers import Catalog, load_catalog
from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from mapsvc.db.engine import (
    database_url,
    drop_database,
    make_engine,
)
from mapsvc.embedded import EmbeddedCluster
from mapsvc.services.demo import DemoResult
from mapsvc.services.keys import auth_secret, create_key
from mapsvc.settings import Settings
from tests.support.databases import Templates, build_templates


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def templates() -> Iterator[Templates]:
    """The session's template databases (seeded; seeded + demo), built once, dropped after."""
    base = Settings()
    cluster = None if base.database.url else EmbeddedCluster.from_settings(base.database)
    started = cluster.start() if cluster else False
    settings = base.model_copy(
        update={
            "auth": base.auth.model_copy(update={"secret": SecretStr("test-secret")}),
            # In-process tests share one rolled-back transaction per test, unseen by the
            # publication watch: what it remembers would carry one test's data into the next.
            # Live servers keep the defaults (on).
            "api": base.api.model_copy(update={"publication_watch": False}),
        }
    )
    made = build_templates(
        settings, database_url(base.database), prefix=f"mapsvc_test_{secrets.token_hex(4)}"
    )
    yield made
    made.drop()
    if cluster and started:
        cluster.stop()


@pytest.fixture(scope="session")
def test_settings(templates: Templates) -> Iterator[Settings]:
    """Settings pointing at the session's database (a copy of the demo template), dropped after."""
    settings, name = templates.copy(templates.demo)
    yield settings
    drop_database(templates.server_url, name)


@pytest.fixture(scope="session")
def engine(test_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(database_url(test_settings.database), test_settings.database)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo(engine: Engine, templates: Templates) -> DemoResult:
    """The demo data set, loaded once (committed) into the template the test database copies."""
    return templates.demo_result


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
def scratch(templates: Templates) -> Iterator[tuple[Settings, Engine]]:
    """A fresh seeded database (no demo data) whose commits cannot disturb other tests."""
    settings, name = templates.copy(templates.seeded)
    scratch_engine = make_engine(settings.database.url.get_secret_value(), settings.database)
    yield settings, scratch_engine
    scratch_engine.dispose()
    drop_database(templates.server_url, name)
