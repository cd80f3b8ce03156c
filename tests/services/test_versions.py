"""Stage, publish, roll back: the pointer flip and its audit row, in one transaction."""

import pytest
import shapely
from psycopg.errors import CheckViolation
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from importers import Feature, ImportReport, read_geojson, to_features
from mapsvc.errors import Conflict, NotFound
from mapsvc.services.versions import publish, rollback, stage
from tests.support.staging import KISHIWADA, aed_file, stage_aed

pytestmark = pytest.mark.db


def _published_names(session) -> list[str]:
    return (
        session.execute(
            text(
                "SELECT properties->>'name' FROM published_feature WHERE layer_id = 'aed' "
                "AND municipality_code = :m ORDER BY 1"
            ),
            {"m": KISHIWADA},
        )
        .scalars()
        .all()
    )


def _audit(session) -> list[tuple[str, int]]:
    return (
        session.execute(
            text(
                "SELECT action, version_id FROM audit_log WHERE layer_id = 'aed' "
                "AND municipality_code = '272027' ORDER BY id"
            )
        )
        .tuples()
        .all()
    )


def test_publish_and_rollback_flip_what_readers_see(session, catalog):
    first, created = stage_aed(session, catalog, aed_file(["市役所", "消防署"]))
    assert created and first.status == "staged" and first.feature_count == 2
    assert _published_names(session) == []  # staged data is invisible

    publish(session, first.id, "test")
    assert _published_names(session) == ["市役所", "消防署"]

    second, _ = stage_aed(session, catalog, aed_file(["市役所", "図書館", "体育館"]))
    assert _published_names(session) == ["市役所", "消防署"]
    publish(session, second.id, "test")
    assert _published_names(session) == ["体育館", "図書館", "市役所"]
    session.refresh(first)
    assert first.status == "retired"

    rollback(session, second.dataset_id, first.id, actor="test")
    assert _published_names(session) == ["市役所", "消防署"]
    assert [a for a, _ in _audit(session)] == ["upload", "publish", "upload", "publish", "rollback"]
    assert _audit(session)[-1][1] == first.id


def test_identical_bytes_return_the_existing_version(session, catalog):
    source = aed_file(["市役所"])
    first, created = stage_aed(session, catalog, source)
    again, created_again = stage_aed(session, catalog, source)
    assert created and not created_again and again.id == first.id
    count = session.execute(
        text("SELECT count(*) FROM feature WHERE version_id = :v"), {"v": first.id}
    )
    assert count.scalar_one() == 1


def test_rollback_only_to_an_earlier_published_version(session, catalog):
    staged, _ = stage_aed(session, catalog, aed_file(["a"]))
    with pytest.raises(Conflict):
        rollback(session, staged.dataset_id, staged.id, actor="test")
    with pytest.raises(NotFound):
        rollback(session, staged.dataset_id, 10**12, actor="test")
    publish(session, staged.id, "test")
    with pytest.raises(Conflict):
        publish(session, staged.id, "test")


def test_a_failed_stage_leaves_nothing_behind(session, catalog):
    counts = "SELECT (SELECT count(*) FROM version), (SELECT count(*) FROM feature)"
    before = session.execute(text(counts)).one()
    source = aed_file(["ok"])
    [good] = to_features(read_geojson(source.content), catalog["aed"], ImportReport())
    # A self-intersecting polygon slipped past the importer: the database's CHECK stops the load.
    bowtie = shapely.Polygon([(135, 34), (135.1, 34.1), (135.1, 34), (135, 34.1), (135, 34)])
    broken = Feature(2, None, bowtie, {})
    # (SQLAlchemy's shape of the driver's error, as any statement of the session raises it.)
    with (
        pytest.raises(IntegrityError, match="ck_feature_geom_valid") as refused,
        session.begin_nested(),
    ):
        stage(
            session,
            layer_id="aed",
            municipality_code=KISHIWADA,
            source=source,
            features=[good, broken],
            report=ImportReport(),
            actor="test",
        )
    assert isinstance(refused.value.orig, CheckViolation)
    assert session.execute(text(counts)).one() == before


def test_features_arrive_exactly_as_staged_across_copy_batches(session, catalog, monkeypatch):
    from mapsvc.db import writes

    # A new batch every few shapes.
    monkeypatch.setattr(writes, "COPY_BATCH_VERTICES", 1_000)
    monkeypatch.setattr(writes, "COPY_CHUNK_ROWS", 2)
    batches: list[int] = []
    cut = writes._copy_batch
    monkeypatch.setattr(writes, "_copy_batch", lambda f: batches.append(len(b := cut(f))) or b)
    rings = [shapely.Point(135.37 + i / 100, 34.46).buffer(0.001, quad_segs=100) for i in range(7)]
    properties = [
        {"name": f"浸水域{i}", "depth": i / 2, "note": None, "tags": ["洪水", i], "ok": i % 2 == 0}
        for i in range(7)
    ]
    features = [
        Feature(i + 2, None, ring, props, f"k{i}")
        for i, (ring, props) in enumerate(zip(rings, properties, strict=True))
    ]
    version, _ = stage(
        session,
        layer_id="aed",
        municipality_code=KISHIWADA,
        source=aed_file(["batches"]),
        features=features,
        report=ImportReport(),
        actor="test",
    )
    stored = session.execute(
        text(
            "SELECT feature_key, source_row, properties, ST_AsBinary(geom), ST_SRID(geom) "
            "FROM feature WHERE version_id = :v ORDER BY id"
        ),
        {"v": version.id},
    ).all()
    assert version.feature_count == 7
    assert batches == [4, 3, 0]  # 401 vertices a shape, counted two shapes at a time
    assert [(key, row) for key, row, *_ in stored] == [(f"k{i}", i + 2) for i in range(7)]
    assert [props for _, _, props, _, _ in stored] == properties
    assert [shapely.from_wkb(bytes(wkb)) for *_, wkb, _ in stored] == rings  # bit for bit
    assert {srid for *_, srid in stored} == {4326}
