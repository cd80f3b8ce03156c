"""What the staff portal shows beyond the dataset use cases: "my datasets" and reports as tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import Catalog, LayerDefinition
from mapsvc.db import queries, staff
from mapsvc.services.datasets import dropped_rows
from mapsvc.services.diff import diff_versions
from mapsvc.services.downloads import excel_csv
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.services.views import MunicipalityName, VersionView, Words
from mapsvc.settings import Settings

PREFECTURE = "270008"
SEEDED_LAYERS = {"municipal_boundaries"}  # loaded by the service itself, not uploaded


@dataclass(frozen=True)
class DatasetLine:
    """A catalog layer of one municipality: what is published, what waits, whether it is stale."""

    layer_id: str
    title: Words
    version_id: int | None
    version_number: int | None
    features: int | None
    published_at: datetime | None
    published_by: str | None
    staged: int
    stale: bool
    stale_days: int

    @property
    def state(self) -> str:
        """``published``, ``waiting`` (uploaded, nothing published) or ``missing``."""
        if self.version_id is not None:
            return "published"
        return "waiting" if self.staged else "missing"


@dataclass(frozen=True)
class MunicipalityDatasets:
    """One municipality's lines, with the person's role there."""

    code: str
    name: Words
    role: str
    lines: list[DatasetLine]


def municipalities_for(session: Session, principal: StaffPrincipal) -> list[MunicipalityName]:
    """The municipalities a person works for (an admin: the prefecture and all of them)."""
    every = [m for m in queries.list_municipalities(session) if m.kind != "ward"]
    return [
        MunicipalityName(m.code, m.name_ja, m.name_en)
        for m in every
        if principal.role_for(m.code) is not None
    ]


def my_datasets(
    session: Session,
    catalog: Catalog,
    settings: Settings,
    principal: StaffPrincipal,
    *,
    only: str | None = None,
) -> list[MunicipalityDatasets]:
    """Every uploadable layer of each of the person's municipalities (or of ``only``).

    Gaps are included. An admin, who works for all 44, gets the prefecture's own unless
    ``only`` names another.
    """
    municipalities = municipalities_for(session, principal)
    if only is not None or principal.is_admin:
        wanted = only or PREFECTURE
        municipalities = [m for m in municipalities if m.code == wanted]
    summaries = {
        (s.layer_id, s.municipality_code): s
        for s in queries.dataset_summaries(session, [m.code for m in municipalities])
    }
    now = staff.now(session)
    groups = []
    for municipality in municipalities:
        lines = []
        for layer in catalog.values():
            if layer.id in SEEDED_LAYERS:
                continue
            found = summaries.get((layer.id, municipality.code))
            published: datetime | None = found.published_at if found else None
            days = layer.stale_after_days or settings.staff.stale_after_days
            lines.append(
                DatasetLine(
                    layer_id=layer.id,
                    title=Words(layer.title.ja, layer.title.en),
                    version_id=found.version_id if found else None,
                    version_number=found.version_number if found else None,
                    features=found.features if found else None,
                    published_at=published,
                    published_by=found.published_by if found else None,
                    staged=found.staged if found else 0,
                    stale=published is not None and published < now - timedelta(days=days),
                    stale_days=days,
                )
            )
        role = principal.role_for(municipality.code) or "viewer"
        name = Words(municipality.name_ja, municipality.name_en)
        groups.append(MunicipalityDatasets(municipality.code, name, role, lines))
    return groups


SORTS = ("row", "kind", "column", "value")


def issues(report: dict[str, Any], show: str, sort: str = "row") -> list[dict[str, Any]]:
    """The report's errors and warnings as one table, each marked with its kind.

    Sorted by ``row`` (file-level issues first), ``kind`` (errors first), ``column`` or
    ``value``, then by row.
    """
    rows = []
    if show in ("all", "errors"):
        rows += [issue | {"kind": "error"} for issue in report.get("errors", [])]
    if show in ("all", "warnings"):
        rows += [issue | {"kind": "warning"} for issue in report.get("warnings", [])]

    def by_row(issue: dict[str, Any]) -> tuple[bool, int]:
        return issue.get("row") is not None, issue.get("row") or 0

    if sort in ("kind", "column", "value"):
        return sorted(rows, key=lambda i: (str(i.get(sort) or "\uffff"), by_row(i)))
    return sorted(rows, key=by_row)


CSV_HEADER = ("種類 kind", "行 row", "列 column", "値 value", "内容 message", "message (en)")


def report_csv(report: dict[str, Any]) -> str:
    """The report for Excel (UTF-8 with a BOM), a line per issue in both languages."""
    return excel_csv(
        CSV_HEADER,
        (
            [
                i["kind"],
                i.get("row"),
                i.get("column"),
                i.get("value"),
                i.get("message_ja"),
                i.get("message_en"),
            ]
            for i in issues(report, "all")
        ),
    )


@dataclass(frozen=True)
class VersionChanges:
    """What publishing a version would change: the diff against the published version."""

    version: VersionView
    current: int | None  # the published version, if any
    current_number: int | None  # its number within the dataset
    diff: dict[str, Any] | None  # None when the version is what is published (or nothing is)
    flagged_rows: list[int]  # rows with warnings


def version_changes(
    session: Session, layer: LayerDefinition, code: str, found: VersionView
) -> VersionChanges:
    """The version (already loaded for the caller's checks) against what is published."""
    dataset = queries.find_dataset(session, layer.id, code)
    current = dataset.current_version_id if dataset is not None else None
    diff = None
    if dataset is not None and current is not None and current != found.id:
        diff = diff_versions(session, layer, dataset.id, old_id=current, new_id=found.id).as_dict()
    flagged = sorted({w["row"] for w in found.report.get("warnings", []) if w.get("row")})
    published = queries.get_version(session, current) if current is not None else None
    number = published.number if published is not None else None
    return VersionChanges(found, current, number, diff, flagged)


@dataclass(frozen=True)
class PublicationPreview:
    """What publishing a version does to the public map, for the confirmation page."""

    published_number: int | None  # the version it replaces, if one is published
    added: int
    removed: int
    changed: int
    moved: int  # of the changed, those that moved
    removed_names: list[str]  # (the first ``diff.LISTED``)
    dropped: list[dict[str, Any]]  # rows left out for their errors (the report's)


def publication_preview(
    session: Session, layer: LayerDefinition, code: str, found: VersionView
) -> PublicationPreview:
    """Counts of what is added, removed, changed and moved, the removed names, the rows dropped."""
    changes = version_changes(session, layer, code, found)
    dropped = dropped_rows(found.report)
    if changes.diff is None:  # nothing published: every feature is new
        return PublicationPreview(None, found.feature_count, 0, 0, 0, [], dropped)
    counts = changes.diff["counts"]
    names = [str(i["name"] or i["key"]) for i in changes.diff["removed"]]
    return PublicationPreview(
        changes.current_number,
        counts["added"],
        counts["removed"],
        counts["changed"],
        counts["moved"],
        names,
        dropped,
    )


def version_geojson(
    session: Session, layer: LayerDefinition, changes: VersionChanges
) -> dict[str, Any]:
    """The map's features: the version's marked added, changed or same, and the removed ones.

    Each says whether its row has warnings.
    """
    diff = changes.diff or {}
    status = {i["key"]: kind for kind in ("added", "changed") for i in diff.get(kind, [])}
    flagged = set(changes.flagged_rows)
    name = layer.name_attribute
    features = [
        _map_feature(layer, key, geometry, properties, row, status.get(key, "same"), row in flagged)
        for key, geometry, properties, row in queries.keyed_features(
            session, changes.version.id, name_attribute=name
        )
    ]
    if changes.diff and changes.current is not None:
        removed = {i["key"] for i in changes.diff["removed"]}
        features += [
            _map_feature(layer, key, geometry, properties, row, "removed", False)
            for key, geometry, properties, row in queries.keyed_features(
                session, changes.current, name_attribute=name
            )
            if key in removed
        ]
    return {"type": "FeatureCollection", "features": features}


def _map_feature(
    layer: LayerDefinition,
    key: str,
    geometry: str,
    properties: dict[str, Any],
    row: int | None,
    status: str,
    flagged: bool,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": orjson.loads(geometry),
        "properties": {
            "name": properties.get(layer.name_attribute),
            "row": row,
            "key": key,
            "status": status,
            "flagged": flagged,
        },
    }
