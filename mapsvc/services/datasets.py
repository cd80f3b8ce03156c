"""Dataset use cases after the upload: versions, publishing, rollback, diff, preview.

Each one owns its transaction; the JSON API and the CLI call these and nothing below them.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import queries
from mapsvc.db.models import DatasetRow, VersionRow
from mapsvc.errors import NotFound
from mapsvc.preview import render_preview
from mapsvc.services import versions as versions_service
from mapsvc.services.diff import diff_versions
from mapsvc.services.transactions import unit_of_work
from mapsvc.services.versions import publish_loaded, rollback_loaded


def version_view(version: VersionRow, *, report: bool = True) -> dict[str, Any]:
    """A version as the API and the CLI show it."""
    view: dict[str, Any] = {
        "id": version.id,  # the identifier (URLs, commands)
        "number": version.number,  # what people read: 1, 2, 3… within the dataset
        "status": version.status,
        "filename": version.filename,
        "format": version.format,
        "options": version.options,  # how the file was read (row filter, columns, data date…)
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


def versions(
    session: Session, layer_id: str, code: str, *, limit: int, offset: int = 0
) -> list[VersionRow]:
    """A page of the dataset's versions, newest first."""
    dataset = _dataset(session, layer_id, code)
    return list(queries.list_versions(session, dataset.id, limit=limit, offset=offset))


def versions_or_none(session: Session, layer_id: str, code: str, *, limit: int) -> list[VersionRow]:
    """The newest versions, or none at all for a dataset nobody has uploaded to yet."""
    dataset = queries.find_dataset(session, layer_id, code)
    if dataset is None:
        return []
    return list(queries.list_versions(session, dataset.id, limit=limit))


def version(session: Session, layer_id: str, code: str, *, version_id: int) -> VersionRow:
    """One version of the dataset."""
    dataset = _dataset(session, layer_id, code)
    found = queries.get_version(session, version_id)
    if found is None or found.dataset_id != dataset.id:
        raise NotFound(
            "このデータセットにその版はありません", f"No version {version_id} in this dataset"
        )
    return found


def publish_version(
    session: Session, layer_id: str, code: str, *, version_id: int, actor: str
) -> VersionRow:
    """Publish one of the dataset's versions."""
    with unit_of_work(session):
        found = version(session, layer_id, code, version_id=version_id)
        return publish_loaded(session, found, actor)


def rollback_to(
    session: Session, layer_id: str, code: str, *, version_id: int, actor: str
) -> VersionRow:
    """Point the dataset back at an earlier published version."""
    with unit_of_work(session):
        found = version(session, layer_id, code, version_id=version_id)
        return rollback_loaded(session, found, actor)


def original(session: Session, found: VersionRow) -> bytes:
    """The version's file exactly as it was uploaded."""
    return queries.source_content(session, found.source_sha256)


def take_down(session: Session, layer_id: str, code: str, *, reason: str, actor: str) -> int:
    """Stop publishing the dataset (reversible: publish one of its versions again); audited."""
    with unit_of_work(session):
        return versions_service.take_down(
            session, _dataset(session, layer_id, code).id, reason=reason, actor=actor
        )


def diff(
    session: Session, layer: LayerDefinition, code: str, *, old: int, new: int
) -> dict[str, Any]:
    """Changes between two versions of the dataset."""
    dataset_id = _dataset(session, layer.id, code).id
    return diff_versions(session, layer, dataset_id, old_id=old, new_id=new).as_dict()


def preview(
    session: Session, layer: LayerDefinition, code: str, *, version_id: int, leaflet_url: str
) -> str:
    """The folium preview of a stored version."""
    found = version(session, layer.id, code, version_id=version_id)
    rows = ((orjson.loads(g), p, r) for g, p, r in queries.version_features(session, found.id))
    return render_preview(layer, rows, found.report, leaflet_url=leaflet_url)
