"""A municipality's upload: read, validate, stage (and optionally publish) — or reject whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from importers import (
    Feature,
    ImportOptions,
    ImportRejected,
    ImportReport,
    Issue,
    Limits,
    read_records,
    to_features,
)
from layers import LayerDefinition
from mapsvc.db import queries, writes
from mapsvc.db.models import VersionRow
from mapsvc.errors import InvalidParameter, MapsvcError, NotFound
from mapsvc.services.seed import SeedManifest
from mapsvc.services.versions import SourceFile, publish, stage
from mapsvc.settings import Settings


class UploadRejected(MapsvcError):
    """The file was not staged; ``report`` says why, row by row."""

    code = "upload_rejected"
    status = 422

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(
            "ファイルを受け付けられませんでした。レポートの内容を直して、もう一度アップロードしてください",
            "The file was not accepted: fix what the report lists and upload it again",
        )
        self.report = report


@dataclass(frozen=True)
class UploadRequest:
    """What the uploader sent besides the file."""

    format: str | None = None
    encoding: str | None = None
    srid: int | None = None
    sheet: str | None = None
    layer: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    publish: bool = False
    accept_partial: bool = False  # stage the good rows even when some rows have errors


@dataclass(frozen=True)
class UploadResult:
    """The staged (or already existing) version and its report."""

    version: VersionRow
    created: bool
    report: dict[str, Any]


def import_options(
    layer: LayerDefinition,
    request: UploadRequest,
    settings: Settings,
    boundary: BaseGeometry | None,
    plane_srid: int | None,
) -> ImportOptions:
    """Importer options for an upload (the bounds come from the settings)."""
    limits = Limits(max_rows=settings.imports.max_rows, max_vertices=settings.imports.max_vertices)
    return ImportOptions(
        format=request.format,
        encoding=request.encoding,
        srid=request.srid,
        sheet=request.sheet,
        layer=request.layer,
        columns=dict(request.columns),
        boundary=boundary,
        plane_srid=plane_srid,
        limits=limits,
        gtfs_table="routes" if layer.geometry_type.value == "line" else "stops",
    )


def _owner(session: Session, code: str) -> str:
    municipality = queries.get_municipality(session, code)
    if municipality is None:
        raise NotFound("その市区町村はありません", f"No municipality {code}")
    if municipality.kind == "ward":
        raise InvalidParameter(
            f"区のデータは市（{municipality.parent_code}）として登録してください",
            f"Data of a ward is filed under its city ({municipality.parent_code})",
        )
    return code


def _rejection(report: ImportReport, fmt: str | None, issue: Issue | None = None) -> UploadRejected:
    return UploadRejected(report.as_rejection(issue, fmt))


def upload(
    session: Session,
    settings: Settings,
    layer: LayerDefinition,
    municipality_code: str,
    source: SourceFile,
    request: UploadRequest,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> UploadResult:
    """Stage ``source`` as a new version of the dataset (and publish it if asked).

    All in the caller's transaction: when the file is rejected nothing is written, and the caller
    rolls back. Identical bytes uploaded again return the existing version.

    Raises
    ------
    UploadRejected
        With the full report, when the file or any row is wrong (unless ``accept_partial``).
    """
    code = _owner(session, municipality_code)
    dataset = writes.get_or_create_dataset(session, layer.id, code)
    existing = queries.find_version(session, dataset.id, source.sha256)
    if existing is not None:
        return UploadResult(existing, False, existing.report)
    boundary = queries.buffered_boundary(session, code, settings.imports.boundary_tolerance_m)
    plane_srid = SeedManifest.read(settings.seed_manifest).plane_srid
    options = import_options(layer, request, settings, boundary, plane_srid)
    report = ImportReport()
    fmt: str | None = request.format
    try:
        fmt, records = read_records(source.content, source.filename, options, report)
        features: Iterator[Feature] = to_features(records, layer, report, options)
        if progress is not None:
            features = _counting(features, progress)
        stored = SourceFile(source.content, source.filename, fmt, _recorded(request))
        version, created = stage(
            session,
            layer_id=layer.id,
            municipality_code=code,
            source=stored,
            features=features,
            report=report,
            actor=actor,
            extra_report={"format": fmt},
        )
    except ImportRejected as exc:
        raise _rejection(report, fmt, exc.issue) from exc
    if report.accepted == 0 or (report.errors and not request.accept_partial):
        raise _rejection(report, fmt)
    if request.publish:
        version = publish(session, version.id, actor)
    return UploadResult(version, created, version.report)


def _recorded(request: UploadRequest) -> dict[str, Any]:
    # What is needed to read the stored bytes again the same way.
    options = {
        "format": request.format,
        "encoding": request.encoding,
        "srid": request.srid,
        "sheet": request.sheet,
        "layer": request.layer,
        "columns": dict(request.columns),
        "accept_partial": request.accept_partial,
    }
    return {k: v for k, v in options.items() if v not in (None, {}, False)}


def _counting(features: Iterator[Feature], progress: Callable[[int], None]) -> Iterator[Feature]:
    for count, feature in enumerate(features, start=1):
        if count % 1000 == 0:
            progress(count)
        yield feature
