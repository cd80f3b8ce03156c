"""What the staff portal shows beyond the dataset use cases: "my datasets" and reports as tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session

from layers import Catalog, LayerDefinition
from mapsvc.db import queries, staff
from mapsvc.db.models import MunicipalityRow
from mapsvc.services import datasets
from mapsvc.services.diff import diff_versions
from mapsvc.services.downloads import safe_cell
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.settings import Settings

PREFECTURE = "270008"
SEEDED_LAYERS = {"municipal_boundaries"}  # loaded by the service itself, not uploaded


@dataclass(frozen=True)
class DatasetLine:
    """A catalog layer of one municipality: what is published, what waits, whether it is stale."""

    layer_id: str
    title: str
    version_id: int | None
    features: int | None
    published_at: str | None
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
    name: str
    role: str
    lines: list[DatasetLine]


def municipalities_for(session: Session, principal: StaffPrincipal) -> list[MunicipalityRow]:
    """The municipalities a person works for (an admin: the prefecture and all of them)."""
    every = [m for m in queries.list_municipalities(session) if m.kind != "ward"]
    return [m for m in every if principal.role_for(m.code) is not None]


def my_datasets(
    session: Session, catalog: Catalog, settings: Settings, principal: StaffPrincipal, lang: str,
    *, only: str | None = None,
) -> list[MunicipalityDatasets]:  # fmt: skip
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
                    title=layer.title.en if lang == "en" else layer.title.ja,
                    version_id=found.version_id if found else None,
                    features=found.features if found else None,
                    published_at=published.strftime("%Y-%m-%d %H:%M") if published else None,
                    published_by=found.published_by if found else None,
                    staged=found.staged if found else 0,
                    stale=published is not None and published < now - timedelta(days=days),
                    stale_days=days,
                )
            )
        role = principal.role_for(municipality.code) or "viewer"
        name = municipality.name_en if lang == "en" else municipality.name_ja
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
    """The report for Excel: UTF-8 with a BOM, a line per issue, both languages.

    Values that Excel would run as formulas are written as text, as downloads write them.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for issue in issues(report, "all"):
        cells: Sequence[object] = (
            issue["kind"], issue.get("row"), issue.get("column"), issue.get("value"),
            issue.get("message_ja"), issue.get("message_en"),
        )  # fmt: skip
        writer.writerow([safe_cell(None if c is None else str(c)) for c in cells])
    return out.getvalue()


@dataclass(frozen=True)
class VersionMap:
    """A version drawn against what is published: each feature's status, and the diff."""

    geojson: dict[str, Any]
    diff: dict[str, Any] | None  # None when the version is what is published (or nothing is)
    flagged_rows: list[int]


def version_map(session: Session, layer: LayerDefinition, code: str, version_id: int) -> VersionMap:
    """The version against what is published: its features marked added, changed or same.

    Also the published features it would remove, and the rows with warnings.
    """
    found = datasets.version(session, layer.id, code, version_id=version_id)
    dataset = queries.find_dataset(session, layer.id, code)
    current = dataset.current_version_id if dataset is not None else None
    diff = None
    if current is not None and current != found.id and dataset is not None:
        diff = diff_versions(session, layer, dataset.id, old_id=current, new_id=found.id).as_dict()
    status = {i["key"]: kind for kind in ("added", "changed") for i in (diff or {}).get(kind, [])}
    flagged = sorted({w["row"] for w in found.report.get("warnings", []) if w.get("row")})
    features = [
        _map_feature(layer, key, geometry, properties, row, status.get(key, "same"), row in flagged)
        for key, geometry, properties, row in queries.keyed_features(
            session, found.id, name_attribute=layer.name_attribute
        )
    ]
    if diff and current is not None:
        removed = {i["key"] for i in diff["removed"]}
        features += [
            _map_feature(layer, key, geometry, properties, row, "removed", False)
            for key, geometry, properties, row in queries.keyed_features(
                session, current, name_attribute=layer.name_attribute
            )
            if key in removed
        ]
    return VersionMap({"type": "FeatureCollection", "features": features}, diff, flagged)


def _map_feature(layer: LayerDefinition, key: str, geometry: str, properties: dict[str, Any],
                 row: int | None, status: str, flagged: bool) -> dict[str, Any]:  # fmt: skip
    return {
        "type": "Feature",
        "geometry": orjson.loads(geometry),
        "properties": {"name": properties.get(layer.name_attribute), "row": row, "key": key,
                       "status": status, "flagged": flagged},
    }  # fmt: skip
