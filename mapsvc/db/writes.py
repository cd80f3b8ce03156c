"""Every statement that changes data. Bound parameters only; callers own the transaction."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import orjson
import shapely
from psycopg.types.json import set_json_dumps
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from importers import Feature
from mapsvc.db.driver import driver_cursor
from mapsvc.db.models import (
    ApiKeyRow,
    AuditRow,
    Base,
    DatasetRow,
    LayerRow,
    MunicipalityRow,
    SourceFileRow,
    VersionRow,
)
from mapsvc.db.search import search_text


def upsert_layer(session: Session, values: dict[str, Any]) -> None:
    """Insert or refresh one catalog entry."""
    statement = insert(LayerRow).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[LayerRow.id],
            set_={k: statement.excluded[k] for k in values if k != "id"}
            | {"synced_at": func.now()},
        )
    )


def upsert_municipality(session: Session, values: dict[str, Any]) -> None:
    """Insert or refresh one municipality (``boundary`` as WKT in EPSG:4326, or None)."""
    wkt = values.pop("boundary")
    boundary = None if wkt is None else func.ST_Multi(func.ST_GeomFromText(wkt, 4326))
    statement = insert(MunicipalityRow).values(**values, boundary=boundary)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[MunicipalityRow.code],
            set_={k: statement.excluded[k] for k in [*values, "boundary"] if k != "code"},
        )
    )


def union_children_boundaries(session: Session, parent_code: str) -> None:
    """Set a municipality's boundary to the union of its children's (the prefecture's outline)."""
    children = (
        select(
            func.ST_Multi(
                func.ST_CollectionExtract(
                    func.ST_MakeValid(func.ST_Union(MunicipalityRow.boundary)), 3
                )
            )
        )
        .where(MunicipalityRow.parent_code == parent_code, MunicipalityRow.kind != "ward")
        .scalar_subquery()
    )
    session.execute(
        update(MunicipalityRow).where(MunicipalityRow.code == parent_code).values(boundary=children)
    )


def get_or_create_dataset(session: Session, layer_id: str, municipality_code: str) -> DatasetRow:
    """The dataset of ``layer_id`` × ``municipality_code``, created on first use."""
    session.execute(
        insert(DatasetRow)
        .values(layer_id=layer_id, municipality_code=municipality_code)
        .on_conflict_do_nothing()
    )
    return session.execute(
        select(DatasetRow).where(
            DatasetRow.layer_id == layer_id, DatasetRow.municipality_code == municipality_code
        )
    ).scalar_one()


def lock_dataset(session: Session, dataset_id: int) -> DatasetRow:
    """The dataset row, locked until the transaction ends: pointer flips are serialised.

    ``populate_existing``: the session may hold this row as loaded before the lock was granted
    (an upload loads it at its start); without it SQLAlchemy returns that stale copy, and a
    flip acts on a current version that another transaction has already replaced.
    """
    return session.execute(
        select(DatasetRow)
        .where(DatasetRow.id == dataset_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def store_source_file(session: Session, sha256: str, content: bytes) -> None:
    """Keep the original bytes once per content hash."""
    session.execute(
        insert(SourceFileRow)
        .values(sha256=sha256, size=len(content), content=content)
        .on_conflict_do_nothing()
    )


def next_version_id(session: Session) -> int:
    """Reserve a version id before the version row is written."""
    return int(
        session.execute(
            text("SELECT nextval(pg_get_serial_sequence('version', 'id'))")
        ).scalar_one()
    )


def insert_version(session: Session, values: dict[str, Any]) -> VersionRow:
    """A new staged version, with the next number of its dataset.

    Taking the number locks the dataset row until the transaction ends, so concurrent uploads
    to one dataset get distinct numbers (uploads to other datasets do not wait).
    """
    number = session.execute(
        update(DatasetRow)
        .where(DatasetRow.id == values["dataset_id"])
        .values(versions_made=DatasetRow.versions_made + 1)
        .returning(DatasetRow.versions_made)
    ).scalar_one()
    row = VersionRow(status="staged", number=number, **values)
    session.add(row)
    session.flush()
    return row


def set_statement_timeout(session: Session, milliseconds: int) -> None:
    """The statement timeout for the rest of this transaction only."""
    session.execute(
        text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(milliseconds)}
    )


_COPY_FEATURES = (
    "COPY feature (version_id, source_id, source_row, feature_key, properties, geom, search_text)"
    " FROM STDIN (FORMAT BINARY)"
)


def copy_features(session: Session, version_id: int, features: Iterable[Feature]) -> int:
    """Bulk-load ``features`` into ``version_id`` with COPY; return how many.

    COPY is the fastest path into PostgreSQL. The binary format sends geometry as EWKB bytes,
    which PostGIS reads as they are (hex text cost 0.37 s to make and twice the bytes for a
    million vertices); the table's CHECK constraints still apply to every row.
    """
    count = 0
    iterator = iter(features)
    with driver_cursor(session, _COPY_FEATURES) as cursor:
        set_json_dumps(orjson.dumps, cursor)
        with cursor.copy(_COPY_FEATURES) as copy:
            copy.set_types(["int8", "text", "int4", "text", "jsonb", "bytea", "text"])
            while batch := _copy_batch(iterator):
                # One vectorised call per batch: per-feature WKB encoding dominated the load time.
                geometries = shapely.set_srid(
                    np.array([f.geometry for f in batch], dtype=object), 4326
                )
                encoded = shapely.to_wkb(geometries, include_srid=True)
                for feature, ewkb in zip(batch, encoded, strict=True):
                    key = feature.key or f"r{feature.row}"
                    text = search_text(feature.properties)
                    row = (
                        version_id,
                        feature.source_id,
                        feature.row,
                        key,
                        feature.properties,
                        ewkb,
                        text,
                    )
                    copy.write_row(row)
                count += len(batch)
    return count


COPY_BATCH_ROWS = 2048
COPY_BATCH_VERTICES = 50_000
COPY_CHUNK_ROWS = 32


def _copy_batch(features: Iterator[Feature]) -> list[Feature]:
    """The next features to encode and send: up to 2,048, or fewer holding 50,000 vertices.

    Small enough that the server checks and indexes one batch while the next is read and
    validated (a file of large polygons read in one batch left the two taking turns). Vertices
    are counted a few features at a time: one shapely call per feature cost 0.25 s per 100,000
    points.
    """
    batch: list[Feature] = []
    vertices = 0
    while len(batch) < COPY_BATCH_ROWS and vertices < COPY_BATCH_VERTICES:
        chunk = list(itertools.islice(features, COPY_CHUNK_ROWS))
        if not chunk:
            break
        batch += chunk
        vertices += int(shapely.get_num_coordinates([f.geometry for f in chunk]).sum())
    return batch


def set_version_status(session: Session, version_id: int, status: str) -> None:
    """Move a version to ``status`` (published versions get their publication time)."""
    values: dict[str, Any] = {"status": status}
    if status == "published":
        values["published_at"] = func.now()
    session.execute(update(VersionRow).where(VersionRow.id == version_id).values(**values))


def point_dataset_at(session: Session, dataset_id: int, version_id: int | None) -> None:
    """Flip the dataset's current-version pointer (None: nothing published)."""
    mark_publication_changed(session)
    session.execute(
        update(DatasetRow)
        .where(DatasetRow.id == dataset_id)
        .values(current_version_id=version_id, updated_at=func.now())
    )


PUBLICATION_CHANGED = "mapsvc.publication_changed"


def mark_publication_changed(session: Session) -> None:
    """Note that this transaction changes what is published.

    Its commit then waits for the publication watches (``services.transactions.unit_of_work``).
    """
    session.info[PUBLICATION_CHANGED] = True


def insert_row(session: Session, row: Base) -> None:
    """Insert an ORM row now, so its generated id is known."""
    session.add(row)
    session.flush()


def revoke_key(session: Session, prefix: str) -> str | None:
    """Mark an active key revoked; return its municipality, or None if there was none."""
    result = session.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.prefix == prefix, ApiKeyRow.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(ApiKeyRow.municipality_code)
    ).first()
    return None if result is None else str(result[0])


def insert_audit(session: Session, **values: Any) -> None:
    """Append to the audit log."""
    session.execute(insert(AuditRow).values(**values))


def insert_dataset_audit(
    session: Session,
    dataset: DatasetRow,
    *,
    actor: str,
    action: str,
    detail: dict[str, Any],
    result: str = "ok",
    version_id: int | None = None,
    sha256: str | None = None,
) -> None:
    """Append an action on one dataset to the audit log, with the dataset's layer and municipality."""
    insert_audit(
        session,
        actor=actor,
        action=action,
        result=result,
        layer_id=dataset.layer_id,
        municipality_code=dataset.municipality_code,
        dataset_id=dataset.id,
        version_id=version_id,
        sha256=sha256,
        detail=detail,
    )


def analyze(session: Session) -> None:
    """Refresh planner statistics after a bulk load."""
    session.execute(text("ANALYZE feature"))
