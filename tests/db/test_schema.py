"""The data-model guarantees, enforced by the database itself."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

pytestmark = pytest.mark.db


def _any_version(session) -> int:
    return session.execute(text("SELECT id FROM version ORDER BY id LIMIT 1")).scalar_one()


@pytest.mark.parametrize(
    "wkt",
    ["POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "POINT EMPTY", "LINESTRING(0 0, 0 0)"],
)
def test_features_refuse_invalid_or_empty_geometry(session, wkt):
    version = _any_version(session)
    with pytest.raises(IntegrityError, match="ck_feature_geom_valid"), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO feature (version_id, feature_key, properties, geom) "
                "VALUES (:v, 'k', '{}', ST_GeomFromText(:wkt, 4326))"
            ),
            {"v": version, "wkt": wkt},
        )


def test_features_refuse_another_srid(session):
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO feature (version_id, feature_key, properties, geom) "
                "VALUES (:v, 'k', '{}', ST_GeomFromText('POINT(0 0)', 3857))"
            ),
            {"v": _any_version(session)},
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE feature SET properties = '{}'",
        "UPDATE version SET feature_count = 0",
        "UPDATE version SET report = '{}'",
        "DELETE FROM version WHERE status = 'published'",
    ],
)
def test_history_cannot_be_rewritten(session, statement):
    refused = r"insert-only|immutable|cannot be deleted"
    with pytest.raises(DBAPIError, match=refused), session.begin_nested():
        session.execute(text(statement))


def test_status_may_move_but_content_may_not(session):
    version = _any_version(session)
    with session.begin_nested():
        session.execute(text("UPDATE version SET status = status WHERE id = :v"), {"v": version})


def test_read_paths_have_their_indexes(session):
    indexes = dict(
        session.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        )
        .tuples()
        .all()
    )
    assert "gist (version_id, geom)" in indexes["ix_feature_version_geom"]
    assert "gist (boundary)" in indexes["ix_municipality_boundary"]
    assert "ix_dataset_municipality_code" in indexes
    assert "uq_dataset_layer_id" in indexes


def test_readers_see_only_published_versions(session):
    unpublished = session.execute(
        text(
            "SELECT count(*) FROM published_feature pf JOIN version v ON v.id = pf.version_id "
            "WHERE v.status <> 'published'"
        )
    ).scalar_one()
    assert unpublished == 0


def test_migrations_build_exactly_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from mapsvc.db.models import Base

    def ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and reflected and compare_to is None)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours})
        assert compare_metadata(context, Base.metadata) == []
