"""The data-model guarantees, enforced by the database itself."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from mapsvc.services.versions import publish
from tests.support.staging import KISHIWADA, aed_file, stage_aed

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


CONTENT = "source_sha256, filename, format, options, feature_count, report, created_by, created_at"


def _content(session, version_id: int) -> tuple:
    return session.execute(
        text(f"SELECT {CONTENT} FROM version WHERE id = :v"), {"v": version_id}
    ).one()


def _features(session, version_id: int) -> list[tuple]:
    return (
        session.execute(
            text(
                "SELECT feature_key, properties::text, ST_AsText(geom) FROM feature "
                "WHERE version_id = :v ORDER BY id"
            ),
            {"v": version_id},
        )
        .tuples()
        .all()
    )


@pytest.mark.parametrize(
    "change",
    [
        "filename = 'renamed.csv'",
        "source_sha256 = repeat('0', 64)",
        "options = '{\"srid\": 6674}'",
        "created_by = 'someone else'",
        "created_at = now() - interval '1 year'",
    ],
)
def test_status_may_move_but_content_may_not(session, catalog, change):
    version, _ = stage_aed(session, catalog, aed_file(["市役所", "消防署"]))
    content, rows = _content(session, version.id), _features(session, version.id)
    with session.begin_nested():
        session.execute(
            text("UPDATE version SET status = 'retired' WHERE id = :v"), {"v": version.id}
        )
    status = session.execute(text("SELECT status FROM version WHERE id = :v"), {"v": version.id})
    assert status.scalar_one() == "retired"
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(text(f"UPDATE version SET {change} WHERE id = :v"), {"v": version.id})
    with pytest.raises(DBAPIError, match="insert-only"), session.begin_nested():
        session.execute(
            text("UPDATE feature SET geom = ST_Translate(geom, 0.01, 0) WHERE version_id = :v"),
            {"v": version.id},
        )
    assert _content(session, version.id) == content
    assert _features(session, version.id) == rows


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


_ADD_FEATURE = text(
    "INSERT INTO feature (version_id, feature_key, properties, geom) "
    "VALUES (:v, :key, '{}', ST_GeomFromText('POINT(135.37 34.46)', 4326))"
)


def test_features_of_a_version_that_does_not_exist_are_refused_at_commit(session):
    missing = _any_version(session) + 10_000_000
    refused = f"version {missing}, which does not exist"
    with session.begin_nested() as savepoint:
        session.execute(_ADD_FEATURE, {"v": missing, "key": "k"})  # the check waits for commit
        with pytest.raises(DBAPIError, match=refused):
            session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # what COMMIT runs
        savepoint.rollback()


def test_features_are_checked_per_statement_and_leave_no_trace(session, catalog):
    version, _ = stage_aed(session, catalog, aed_file(["市役所"]))
    with session.begin_nested():  # the version was written: its features may follow
        session.execute(_ADD_FEATURE, {"v": version.id, "key": "later"})
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    # One note per statement, each removed by its check.
    assert session.execute(text("SELECT count(*) FROM feature_batch")).scalar_one() == 0


def test_deleting_a_staged_version_deletes_its_features(session, catalog):
    version, _ = stage_aed(session, catalog, aed_file(["市役所", "消防署"]))
    with session.begin_nested():
        session.execute(text("DELETE FROM version WHERE id = :v"), {"v": version.id})
    left = session.execute(
        text("SELECT count(*) FROM feature WHERE version_id = :v"), {"v": version.id}
    )
    assert left.scalar_one() == 0


def _published_aed_names(session) -> set[str]:
    statement = text(
        "SELECT properties->>'name' FROM published_feature "
        "WHERE layer_id = 'aed' AND municipality_code = :m"
    )
    return set(session.execute(statement, {"m": KISHIWADA}).scalars())


def test_readers_see_only_published_versions(session, catalog):
    published, _ = stage_aed(session, catalog, aed_file(["公開中の市役所"]))
    publish(session, published.id, "test")
    staged, _ = stage_aed(session, catalog, aed_file(["未公開の図書館", "未公開の体育館"]))
    assert staged.status == "staged"
    stored = session.execute(
        text("SELECT count(*) FROM feature WHERE version_id = :v"), {"v": staged.id}
    )
    assert stored.scalar_one() == 2  # the staged rows are there, in the feature table
    assert _published_aed_names(session) == {"公開中の市役所"}
    unpublished = session.execute(
        text(
            "SELECT count(*) FROM published_feature pf JOIN version v ON v.id = pf.version_id "
            "WHERE v.status <> 'published'"
        )
    ).scalar_one()
    assert unpublished == 0
    publish(session, staged.id, "test")
    assert _published_aed_names(session) == {"未公開の図書館", "未公開の体育館"}


def test_migrations_build_exactly_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from mapsvc.db.models import Base

    def ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and reflected and compare_to is None)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours})
        assert compare_metadata(context, Base.metadata) == []
