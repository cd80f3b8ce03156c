"""Dataset use cases after the upload: versions, publishing, rollback, diff, preview data.

Each one owns its transaction and returns views (``VersionView``), never rows; the JSON API, the
staff pages and the CLI call these and nothing below them.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import queries
from mapsvc.db.models import DatasetRow, VersionRow
from mapsvc.errors import Conflict, NotFound
from mapsvc.services import versions as versions_service
from mapsvc.services.diff import diff_versions
from mapsvc.services.transactions import unit_of_work
from mapsvc.services.versions import publish_loaded, rollback_loaded
from mapsvc.services.views import VersionView


def _dataset(session: Session, layer_id: str, code: str) -> DatasetRow:
    dataset = queries.find_dataset(session, layer_id, code)
    if dataset is None:
        raise NotFound(
            "このデータセットにはまだ版がありません", f"No versions yet for {layer_id} of {code}"
        )
    return dataset


def versions(
    session: Session, layer_id: str, code: str, *, limit: int, offset: int = 0
) -> list[VersionView]:
    """A page of the dataset's versions, newest first."""
    dataset = _dataset(session, layer_id, code)
    found = queries.list_versions(session, dataset.id, limit=limit, offset=offset)
    return [VersionView.of(v) for v in found]


def versions_or_none(
    session: Session, layer_id: str, code: str, *, limit: int
) -> list[VersionView]:
    """The newest versions, or none at all for a dataset nobody has uploaded to yet."""
    dataset = queries.find_dataset(session, layer_id, code)
    if dataset is None:
        return []
    return [VersionView.of(v) for v in queries.list_versions(session, dataset.id, limit=limit)]


def newest_version_id(session: Session, layer_id: str, code: str) -> int | None:
    """The id of the dataset's newest version (what a page that changes versions last saw)."""
    newest = versions_or_none(session, layer_id, code, limit=1)
    return newest[0].id if newest else None


def version(session: Session, layer_id: str, code: str, *, version_id: int) -> VersionView:
    """One version of the dataset."""
    return VersionView.of(version_row(session, layer_id, code, version_id))


def version_row(session: Session, layer_id: str, code: str, version_id: int) -> VersionRow:
    """The version of this dataset (404 for another dataset's version)."""
    dataset = _dataset(session, layer_id, code)
    found = queries.get_version(session, version_id)
    if found is None or found.dataset_id != dataset.id:
        raise NotFound(
            "このデータセットにその版はありません", f"No version {version_id} in this dataset"
        )
    return found


def dropped_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a version leaves out because they have errors (staged with ``accept_partial``)."""
    return [e for e in report.get("errors", []) if e.get("row") is not None]


def publish_version(
    session: Session,
    layer_id: str,
    code: str,
    *,
    version_id: int,
    actor: str,
    accept_dropped_rows: bool = False,
) -> VersionView:
    """Publish one of the dataset's versions.

    A version that leaves rows out for their errors is published only when the person says
    they accept that (``accept_dropped_rows``): whoever publishes sees what residents will miss.

    Raises
    ------
    Conflict
        If rows are dropped and that is not accepted (the message names the rows).
    """
    with unit_of_work(session):
        found = version_row(session, layer_id, code, version_id)
        dropped = sorted({e["row"] for e in dropped_rows(found.report)})
        if dropped and not accept_dropped_rows:
            rows = ", ".join(str(r) for r in dropped[:20]) + ("…" if len(dropped) > 20 else "")
            raise Conflict(
                f"この版では誤りのある {len(dropped)} 行（{rows} 行目）が除かれています。"
                "除いて公開してよいことを確かめてから公開してください",
                f"{len(dropped)} rows of this version have errors and are left out (rows {rows}):"
                " publish it only once you accept that (accept_dropped_rows)",
            )
        return VersionView.of(publish_loaded(session, found, actor))


def rollback_to(
    session: Session, layer_id: str, code: str, *, version_id: int, actor: str
) -> VersionView:
    """Point the dataset back at an earlier published version."""
    with unit_of_work(session):
        found = version_row(session, layer_id, code, version_id)
        return VersionView.of(rollback_loaded(session, found, actor))


def original(session: Session, found: VersionView) -> bytes:
    """The version's file exactly as it was uploaded."""
    return queries.source_content(session, found.sha256)


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


Located = tuple[dict[str, Any], dict[str, Any], int | None]  # (GeoJSON geometry, properties, row)


def preview_features(
    session: Session, layer: LayerDefinition, code: str, *, version_id: int
) -> tuple[list[Located], dict[str, Any]]:
    """A stored version's features and its report: what a preview map draws (the front end)."""
    found = version(session, layer.id, code, version_id=version_id)
    rows = [(orjson.loads(g), p, r) for g, p, r in queries.version_features(session, found.id)]
    return rows, found.report
