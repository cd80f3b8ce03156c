"""Stage, publish and roll back dataset versions: the one path every upload and the demo take."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from importers import Feature, ImportReport
from mapsvc.db import harvest, notices, queries, tiles, writes
from mapsvc.db.models import DatasetRow, VersionRow
from mapsvc.errors import Conflict, InvalidParameter, NotFound
from mapsvc.services.collector import collector_paused

ANSWERED_BY_PUBLISHING = ("publish_request", "harvest_review")


@dataclass(frozen=True)
class SourceFile:
    """An uploaded file as received, with what is needed to read it again."""

    content: bytes
    filename: str
    format: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """Content hash: the file's identity."""
        return hashlib.sha256(self.content).hexdigest()


def stage(
    session: Session,
    *,
    layer_id: str,
    municipality_code: str,
    source: SourceFile,
    features: Iterable[Feature],
    report: ImportReport,
    actor: str,
    extra_report: dict[str, Any] | None = None,
) -> tuple[VersionRow, bool]:
    """Store ``features`` as a new staged version; return it and whether it is new.

    The same bytes read with the same options (``source.options``) return the existing version
    unchanged.
    ``features`` is consumed while it streams into the database, so ``report`` is complete
    (and stored with the version) only then. Runs in the caller's transaction, so a failure
    leaves no partial version behind.
    """
    dataset = writes.get_or_create_dataset(session, layer_id, municipality_code)
    existing = queries.find_version(session, dataset.id, source.sha256, source.options)
    if existing is not None:
        return existing, False
    version = store_version(
        session,
        dataset=dataset,
        source=source,
        features=features,
        report=report,
        actor=actor,
        extra_report=extra_report,
    )
    return version, True


def store_version(
    session: Session,
    *,
    dataset: DatasetRow,
    source: SourceFile,
    features: Iterable[Feature],
    report: ImportReport,
    actor: str,
    extra_report: dict[str, Any] | None = None,
    audit_detail: dict[str, Any] | None = None,
) -> VersionRow:
    """Store ``features`` as a new staged version of ``dataset`` (the caller checked it is new).

    ``audit_detail`` joins the audit entry's detail (a revision: the version and fixes it is from).
    """
    writes.store_source_file(session, source.sha256, source.content)
    # Features first, then the version row with its final count: a version is written once,
    # complete (that the features' version exists is checked at commit: see migration 0010).
    version_id = writes.next_version_id(session)
    with collector_paused():
        count = writes.copy_features(session, version_id, features)
    version = writes.insert_version(
        session,
        {
            "id": version_id,
            "dataset_id": dataset.id,
            "source_sha256": source.sha256,
            "filename": source.filename,
            "format": source.format,
            "options": source.options,
            "feature_count": count,
            "report": report.as_dict() | (extra_report or {}),
            "created_by": actor,
        },
    )
    writes.insert_dataset_audit(
        session,
        dataset,
        actor=actor,
        action="upload",
        result="staged",
        version_id=version.id,
        sha256=source.sha256,
        detail={"filename": source.filename, "features": count} | (audit_detail or {}),
    )
    return version


def _flip(session: Session, version: VersionRow, *, actor: str, action: str) -> VersionRow:
    dataset = writes.lock_dataset(session, version.dataset_id)
    # The version's status as of the lock: another flip may have committed since it was loaded.
    session.refresh(version)
    if action == "rollback" and version.status != "retired":
        raise Conflict(
            "一度も公開されていない版、または公開中の版には戻せません",
            f"Version {version.id} was never published or is the current one",
        )
    previous = dataset.current_version_id
    if previous == version.id:
        raise Conflict("この版はすでに公開中です", f"Version {version.id} is already published")
    if previous is not None:
        writes.set_version_status(session, previous, "retired")
    writes.set_version_status(session, version.id, "published")
    tiles.build_tile_geometry(session, version.id)
    writes.point_dataset_at(session, dataset.id, version.id)
    # Whoever asked for a version of it to be published, or a fetched one to be checked, is
    # answered: a person (or the harvest, with a clean file) has decided what is published.
    notices.close(
        session, ANSWERED_BY_PUBLISHING, dataset.layer_id, dataset.municipality_code, by=actor
    )
    harvest.settle(session, dataset.id)
    # Same transaction as the flip: there is never a published state without its audit row.
    writes.insert_dataset_audit(
        session,
        dataset,
        actor=actor,
        action=action,
        version_id=version.id,
        sha256=version.source_sha256,
        detail={"previous_version_id": previous},
    )
    session.refresh(version)
    return version


def publish(session: Session, version_id: int, actor: str) -> VersionRow:
    """Make a staged version the dataset's current one (the previous one is retired)."""
    version = queries.get_version(session, version_id)
    if version is None:
        raise NotFound("その版はありません", f"No version {version_id}")
    return publish_loaded(session, version, actor)


def publish_loaded(session: Session, version: VersionRow, actor: str) -> VersionRow:
    """``publish`` for a version the caller has already loaded (and checked it may publish)."""
    return _flip(session, version, actor=actor, action="publish")


def rollback(session: Session, dataset_id: int, to_version_id: int, *, actor: str) -> VersionRow:
    """Point the dataset back at an earlier published version."""
    version = queries.get_version(session, to_version_id)
    if version is None or version.dataset_id != dataset_id:
        raise NotFound(
            "このデータセットにその版はありません", f"No version {to_version_id} in this dataset"
        )
    return rollback_loaded(session, version, actor)


def rollback_loaded(session: Session, version: VersionRow, actor: str) -> VersionRow:
    """``rollback`` to a version the caller has already loaded from the dataset."""
    return _flip(session, version, actor=actor, action="rollback")


def take_down(session: Session, dataset_id: int, *, reason: str, actor: str) -> int:
    """Stop publishing the dataset at all (its versions are kept); the version taken down.

    Publishing any of its versions again (``rollback`` to it) brings the data back.
    """
    if not reason.strip():
        raise InvalidParameter(
            "取り下げる理由を書いてください", "Say why the dataset is taken down"
        )
    dataset = writes.lock_dataset(session, dataset_id)
    current = dataset.current_version_id
    if current is None:
        raise Conflict("このデータは公開されていません", "Nothing of this dataset is published")
    writes.set_version_status(session, current, "retired")
    writes.point_dataset_at(session, dataset.id, None)
    writes.insert_dataset_audit(
        session,
        dataset,
        actor=actor,
        action="take_down",
        version_id=current,
        detail={"reason": reason.strip()},
    )
    return current
