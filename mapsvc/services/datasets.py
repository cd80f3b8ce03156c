"""Dataset use cases for the API and the CLI; each owns its transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import queries, writes
from mapsvc.db.models import DatasetRow, VersionRow
from mapsvc.errors import NotFound
from mapsvc.preview import render_preview
from mapsvc.services import versions as version_service
from mapsvc.services.diff import diff_versions
from mapsvc.services.uploads import UploadRejected, UploadRequest, UploadResult, upload
from mapsvc.services.versions import SourceFile
from mapsvc.settings import Settings


@contextmanager
def unit_of_work(session: Session) -> Iterator[None]:
    """Commit what the block did, or roll all of it back."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def version_view(version: VersionRow, *, report: bool = True) -> dict[str, Any]:
    """A version as the API and the CLI show it."""
    view: dict[str, Any] = {
        "id": version.id,
        "status": version.status,
        "filename": version.filename,
        "format": version.format,
        "sha256": version.source_sha256,
        "features": version.feature_count,
        "created_by": version.created_by,
        "created_at": version.created_at.isoformat(),
        "published_at": version.published_at.isoformat() if version.published_at else None,
    }
    if report:
        view["report"] = version.report
    return view


def _dataset(session: Session, layer_id: str, code: str) -> DatasetRow:
    dataset = queries.find_dataset(session, layer_id, code)
    if dataset is None:
        raise NotFound(
            "このデータセットにはまだ版がありません", f"No versions yet for {layer_id} of {code}"
        )
    return dataset


def upload_file(
    session: Session,
    settings: Settings,
    layer: LayerDefinition,
    code: str,
    content: bytes,
    filename: str,
    request: UploadRequest,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> UploadResult:
    """Upload in one transaction; a rejection changes nothing but the audit log."""
    source = SourceFile(content, filename, request.format or "auto")
    try:
        with unit_of_work(session):
            return upload(session, settings, layer, code, source, request, actor, progress)
    except UploadRejected as rejected:
        with unit_of_work(session):
            writes.insert_audit(
                session,
                actor=actor,
                action="upload",
                result="rejected",
                layer_id=layer.id,
                municipality_code=code,
                sha256=source.sha256,
                detail={
                    "filename": filename,
                    "rows": rejected.report.get("rows"),
                    "errors": len(rejected.report.get("errors", [])),
                },
            )
        raise


def versions(session: Session, layer_id: str, code: str) -> list[VersionRow]:
    """The dataset's versions, newest first."""
    return list(queries.list_versions(session, _dataset(session, layer_id, code).id))


def version(session: Session, layer_id: str, code: str, version_id: int) -> VersionRow:
    """One version of the dataset."""
    dataset = _dataset(session, layer_id, code)
    found = queries.get_version(session, version_id)
    if found is None or found.dataset_id != dataset.id:
        raise NotFound(
            "このデータセットにその版はありません", f"No version {version_id} in this dataset"
        )
    return found


def publish_version(
    session: Session, layer_id: str, code: str, version_id: int, actor: str
) -> VersionRow:
    """Publish one of the dataset's versions."""
    with unit_of_work(session):
        return version_service.publish(
            session, version(session, layer_id, code, version_id).id, actor
        )


def rollback_to(
    session: Session, layer_id: str, code: str, version_id: int, actor: str
) -> VersionRow:
    """Point the dataset back at an earlier published version."""
    with unit_of_work(session):
        return version_service.rollback(
            session, _dataset(session, layer_id, code).id, version_id, actor
        )


def diff(session: Session, layer: LayerDefinition, code: str, old: int, new: int) -> dict[str, Any]:
    """Changes between two versions of the dataset."""
    return diff_versions(session, layer, _dataset(session, layer.id, code).id, old, new).as_dict()


def preview(
    session: Session, layer: LayerDefinition, code: str, version_id: int, leaflet_url: str
) -> str:
    """The folium preview of a stored version."""
    found = version(session, layer.id, code, version_id)
    rows = ((orjson.loads(g), p, r) for g, p, r in queries.version_features(session, found.id))
    return render_preview(layer, rows, found.report, leaflet_url)
