"""The upload use case: ``validate`` a municipality's file (writes nothing) or ``upload`` it.

Every front end (the JSON API, the CLI, the staff pages) builds an ``UploadRequest`` with
``upload_request`` from what its user typed, and calls one of the functions here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session

from importers import (
    Feature,
    ImportOptions,
    ImportRejected,
    ImportReport,
    Limits,
    Neighbour,
    read_records,
    to_features,
)
from importers.crs import parse_srid
from importers.edits import RowEdit, apply_edits
from importers.towns import TownIndex
from layers import GeometryType, LayerDefinition
from mapsvc.db import queries, writes
from mapsvc.db.models import DatasetRow
from mapsvc.errors import Conflict, InvalidParameter, NotFound, UploadRejected
from mapsvc.services import datasets
from mapsvc.services.collector import collector_paused
from mapsvc.services.seed import SeedManifest
from mapsvc.services.towns import town_index
from mapsvc.services.transactions import unit_of_work
from mapsvc.services.versions import SourceFile, publish_loaded, store_version
from mapsvc.services.views import VersionView
from mapsvc.settings import Settings

Progress = Callable[[int], None]


@dataclass(frozen=True, kw_only=True)
class UploadRequest:
    """What an uploader asked for besides the file.

    ``reading`` holds the caller's choices of how to read it (the service adds the bounds and
    the boundary); ``accept_partial`` stages the good rows even when some rows have errors.
    """

    reading: ImportOptions = field(default_factory=ImportOptions)
    publish: bool = False
    accept_partial: bool = False
    # When the data describes the world ("2015", "2026-04"): shown with every feature, so that
    # nobody takes an old list for today's. None: not said.
    data_date: str | None = None
    # Corrections made in the staff portal, applied as the stored file is read again.
    edits: tuple[RowEdit, ...] = ()


def upload_request(
    *,
    format: str | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    sheet: str | None = None,
    source_layer: str | None = None,
    columns: str | None = None,
    where: str | None = None,
    data_date: str | None = None,
    publish: bool = False,
    accept_partial: bool = False,
    town_positions: bool = False,
) -> UploadRequest:
    """An upload request from what a user typed.

    ``columns`` is JSON ``{"header": "attribute"}``; ``where`` JSON ``{"header": ["value", …]}``,
    the rows to keep. The API's form fields and the CLI's options come through here: the same checks, the same errors.
    A blank field (an HTML form's untouched box) means "not given".
    """
    format, encoding, sheet, source_layer, columns, where, data_date = (
        None if value is None or not value.strip() else value
        for value in (format, encoding, sheet, source_layer, columns, where, data_date)
    )
    reading = ImportOptions(
        format=format,
        encoding=encoding,
        srid=_srid(crs),
        sheet=sheet,
        layer=source_layer,
        columns=_columns(columns),
        where=_where(where),
        town_positions=town_positions,
    )
    return UploadRequest(
        reading=reading,
        publish=publish,
        accept_partial=accept_partial,
        data_date=_data_date(data_date),
    )


def _srid(value: str | int | None) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return parse_srid(value)
    except ValueError:
        raise InvalidParameter(
            f"座標系「{value}」を読めません。6674、EPSG:6674、urn:ogc:def:crs:EPSG::6674、"
            "JGD2011 / Japan Plane Rectangular CS VI のように指定してください",
            f"Cannot read the CRS {str(value)!r}: write it like 6674, EPSG:6674, "
            "urn:ogc:def:crs:EPSG::6674 or JGD2011 / Japan Plane Rectangular CS VI",
        ) from None


_DATA_DATE = re.compile(r"^(19|20)\d\d(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def _data_date(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _DATA_DATE.match(value.strip()):
        raise InvalidParameter(
            f"data_date「{value}」は 2015、2026-04、2026-04-01 のように書いてください",
            f"Write data_date like 2015, 2026-04 or 2026-04-01, not {value!r}",
        )
    return value.strip()


def _json(value: str) -> object:
    """A form field's JSON, or None when it is not JSON (the caller says what was expected)."""
    try:
        parsed: object = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return parsed


def _columns(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    columns = _json(value)
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise InvalidParameter(
            'columns は {"列名": "属性名"} のJSONで指定してください',
            'columns must be JSON like {"header": "attribute"}',
        )
    return columns


def _where(value: str | None) -> dict[str, tuple[str, ...]]:
    if not value:
        return {}
    where = _json(value)
    if isinstance(where, dict):
        where = {k: [v] if isinstance(v, str) else v for k, v in where.items()}
    if not isinstance(where, dict) or not all(
        isinstance(v, list) and v and all(isinstance(i, str) for i in v) for v in where.values()
    ):
        raise InvalidParameter(
            'where は {"列名": ["残す値", …]} のJSONで指定してください',
            'where must be JSON like {"header": ["value to keep", …]}',
        )
    return {k: tuple(v) for k, v in where.items()}


@dataclass(frozen=True)
class Reading:
    """A file being read: its format and a stream of features; the report fills as it streams."""

    format: str | None
    features: Iterator[Feature]
    report: ImportReport


@dataclass(frozen=True)
class UploadResult:
    """The staged (or already existing) version and its report."""

    version: VersionView
    created: bool
    report: dict[str, Any]


def read(
    session: Session | None,
    settings: Settings,
    *,
    layer: LayerDefinition,
    source: SourceFile,
    request: UploadRequest,
    municipality: str | None = None,
) -> Reading:
    """Start reading ``source`` for ``layer``: the one import pipeline every caller shares.

    With a ``municipality`` (and a ``session`` to look up its boundary) points outside it are row
    errors; without one, the file is read as it is. A file-level fault, found at once or while
    the features stream, raises UploadRejected with the report so far.
    """
    options = reading_options(
        session, settings, layer=layer, request=request, municipality=municipality
    )
    report = ImportReport()
    try:
        fmt, records = read_records(source.content, source.filename, options, report=report)
    except ImportRejected as exc:
        raise UploadRejected(report.as_rejection(exc.issue, options.format)) from exc
    if request.edits:
        records = apply_edits(records, request.edits, report)
    return Reading(
        fmt, _rejecting(to_features(records, layer, report, options=options), report, fmt), report
    )


def reading_options(
    session: Session | None,
    settings: Settings,
    *,
    layer: LayerDefinition,
    request: UploadRequest,
    municipality: str | None = None,
) -> ImportOptions:
    """How ``read`` reads a file: the caller's choices plus the bounds, the boundary and the towns."""
    boundary = exact = None
    neighbours: tuple[Neighbour, ...] = ()
    if municipality is not None and session is not None:
        tolerance = settings.imports.boundary_tolerance_m
        boundary = queries.buffered_boundary(session, municipality, tolerance)
        near = queries.boundaries_near(session, municipality, tolerance)
        exact = next((b for code, _, _, b in near if code == municipality), None)
        neighbours = tuple(Neighbour(ja, en, b) for code, ja, en, b in near if code != municipality)
    seed = SeedManifest.read(settings.seed_manifest)
    return dataclasses.replace(
        request.reading,
        boundary=boundary,
        exact_boundary=exact,
        neighbours=neighbours,
        towns=town_table(session, seed, municipality) if request.reading.town_positions else None,
        plane_srid=seed.plane_srid,
        limits=reading_limits(settings),
        gtfs_table="routes" if layer.geometry_type is GeometryType.LINE else "stops",
    )


def reading_limits(settings: Settings) -> Limits:
    """The bounds every read of an uploaded file obeys."""
    return Limits(
        max_rows=settings.imports.max_rows,
        max_vertices=settings.imports.max_vertices,
        max_seconds=settings.imports.upload_timeout_s,
    )


def town_table(session: Session | None, seed: SeedManifest, municipality: str | None) -> TownIndex:
    """The town table of the upload's municipality (all wards), or of the whole prefecture."""
    found = queries.get_municipality(session, municipality) if session and municipality else None
    city = found.name_ja if found is not None and found.kind != "prefecture" else None
    index = town_index(seed, city)
    if index is None:
        raise InvalidParameter(
            "この地域の町名の位置表がないため、住所から位置を求められません",
            "No town table is installed for this prefecture: addresses cannot be placed",
        )
    return index


def _rejecting(
    features: Iterator[Feature], report: ImportReport, fmt: str | None
) -> Iterator[Feature]:
    # A fault found while streaming (too many rows, say) rejects the file with the report so far.
    try:
        yield from features
    except ImportRejected as exc:
        raise UploadRejected(report.as_rejection(exc.issue, fmt)) from exc


def validate(
    session: Session | None,
    settings: Settings,
    *,
    layer: LayerDefinition,
    source: SourceFile,
    request: UploadRequest,
    municipality: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Parse, map and check the file as ``upload`` would, writing nothing; the report.

    Raises
    ------
    UploadRejected
        With the full report, when ``upload`` would reject the file.
    """
    reading = read(
        session, settings, layer=layer, source=source, request=request, municipality=municipality
    )
    with collector_paused():
        for _ in _counting(reading.features, progress):
            pass
    return _accepted(reading, request)


def _accepted(reading: Reading, request: UploadRequest) -> dict[str, Any]:
    # The one accept/reject rule, for validate and upload alike.
    if not reading.report.acceptable(accept_partial=request.accept_partial):
        raise UploadRejected(reading.report.as_rejection(None, reading.format))
    return reading.report.as_dict() | {"format": reading.format}


def upload(
    session: Session,
    settings: Settings,
    *,
    layer: LayerDefinition,
    municipality: str,
    source: SourceFile,
    request: UploadRequest,
    actor: str,
    progress: Progress | None = None,
) -> UploadResult:
    """Stage ``source`` as a new version of the dataset (and publish it if asked), in one transaction.

    Identical bytes uploaded again return the existing version. A rejected file changes nothing
    but the audit log.

    Raises
    ------
    UploadRejected
        With the full report, when the file or any row is wrong (unless ``accept_partial``).
    """
    try:
        with unit_of_work(session):
            return _stage_upload(
                session,
                settings,
                layer=layer,
                code=owner(session, municipality),
                source=source,
                request=request,
                actor=actor,
                progress=progress,
            )
    except UploadRejected as rejected:
        with unit_of_work(session):
            writes.insert_audit(
                session,
                actor=actor,
                action="upload",
                result="rejected",
                layer_id=layer.id,
                municipality_code=municipality,
                sha256=source.sha256,
                detail={
                    "filename": source.filename,
                    "rows": rejected.report.get("rows"),
                    "errors": len(rejected.report.get("errors", [])),
                },
            )
        raise


def _stage_upload(
    session: Session,
    settings: Settings,
    *,
    layer: LayerDefinition,
    code: str,
    source: SourceFile,
    request: UploadRequest,
    actor: str,
    progress: Progress | None,
    audit_detail: dict[str, Any] | None = None,
) -> UploadResult:
    # The file is parsed while its rows stream into COPY: a file inside the row limit must not
    # run into the timeout meant for one read query.
    writes.set_statement_timeout(session, int(settings.imports.upload_timeout_s * 1000))
    dataset: DatasetRow = writes.get_or_create_dataset(session, layer.id, code)
    recorded = _recorded(request)
    existing = queries.find_version(session, dataset.id, source.sha256, recorded)
    if existing is not None:  # the same file read the same way: that version, published if asked
        if request.publish and dataset.current_version_id != existing.id:
            existing = publish_loaded(session, existing, actor)
        return UploadResult(VersionView.of(existing), False, existing.report)
    reading = read(
        session, settings, layer=layer, source=source, request=request, municipality=code
    )
    version = store_version(
        session,
        dataset=dataset,
        source=dataclasses.replace(
            source, format=reading.format or source.format, options=recorded
        ),
        features=_counting(reading.features, progress),
        report=reading.report,
        actor=actor,
        extra_report={"format": reading.format},
        audit_detail=audit_detail,
    )
    _accepted(reading, request)
    if request.publish:
        version = publish_loaded(session, version, actor)
    return UploadResult(VersionView.of(version), True, version.report)


def owner(session: Session, code: str) -> str:
    """The code a dataset of ``code`` is filed under (404 if none, 400 for a ward: its city)."""
    municipality = queries.get_municipality(session, code)
    if municipality is None:
        raise NotFound("その市区町村はありません", f"No municipality {code}")
    if municipality.kind == "ward":
        raise InvalidParameter(
            f"区のデータは市（{municipality.parent_code}）として登録してください",
            f"Data of a ward is filed under its city ({municipality.parent_code})",
        )
    return code


def _recorded(request: UploadRequest) -> dict[str, Any]:
    # What is needed to read the stored bytes again the same way.
    return (
        request.reading.choices()
        | ({"accept_partial": True} if request.accept_partial else {})
        | ({"data_date": request.data_date} if request.data_date else {})
        | ({"edits": [e.as_dict() for e in request.edits]} if request.edits else {})
    )


def recorded_request(options: dict[str, Any]) -> UploadRequest:
    """The request a version's recorded options stand for: how to read its file again."""
    return UploadRequest(
        reading=ImportOptions(
            format=options.get("format"),
            encoding=options.get("encoding"),
            srid=options.get("srid"),
            sheet=options.get("sheet"),
            layer=options.get("layer"),
            columns=options.get("columns", {}),
            where={k: tuple(v) for k, v in options.get("where", {}).items()},
            town_positions=bool(options.get("town_positions", False)),
        ),
        accept_partial=bool(options.get("accept_partial", False)),
        data_date=options.get("data_date"),
        edits=tuple(RowEdit.from_dict(e) for e in options.get("edits", [])),
    )


def revise(
    session: Session,
    settings: Settings,
    *,
    layer: LayerDefinition,
    municipality: str,
    version_id: int,
    edits: list[RowEdit],
    actor: str,
    newest_seen: int | None = None,
    town_positions: bool = False,
    progress: Progress | None = None,
) -> UploadResult:
    """One new staged version: the version's own file read again with its options and ``edits``.

    ``edits`` (several rows' fixes, applied together) join the version's earlier ones (a later
    edit of the same row and column replaces the earlier); ``town_positions`` places the rows
    without coordinates at their address's town. The stored file is not changed; the new
    version's report lists every edit and who made it, and one audit entry lists these fixes.

    Raises
    ------
    Conflict
        When a version newer than ``newest_seen`` (the newest one the person saw) was made.
    InvalidParameter
        When a row fixed here still has an error. Either way nothing is written.
    """
    with unit_of_work(session):
        version = datasets.version_row(session, layer.id, municipality, version_id)
        # Locked: the newest version stays the newest until this one is committed.
        writes.lock_dataset(session, version.dataset_id)
        _refuse_if_stale(session, layer.id, municipality, newest_seen)
        before = recorded_request(version.options)
        keyed = {e.key: e for e in before.edits} | {e.key: e for e in edits}
        by_town = town_positions or before.reading.town_positions
        request = dataclasses.replace(
            before,
            reading=dataclasses.replace(before.reading, town_positions=by_town),
            edits=tuple(keyed.values()),
            accept_partial=True,
        )
        content = queries.source_content(session, version.source_sha256)
        fixes = [e.as_dict(author=False) for e in edits]
        result = _stage_upload(
            session,
            settings,
            layer=layer,
            code=municipality,
            source=SourceFile(content, version.filename, version.format),
            request=request,
            actor=actor,
            progress=progress,
            audit_detail={
                "revised_from": version.id,
                "fixes": fixes + ([{"town_positions": True}] if town_positions else []),
            },
        )
        _refuse_if_still_wrong(result.report, edits)
        return result


def _refuse_if_stale(session: Session, layer_id: str, code: str, newest_seen: int | None) -> None:
    newest = datasets.versions_or_none(session, layer_id, code, limit=1)
    if newest_seen is None or not newest or newest[0].id == newest_seen:
        return
    number = newest[0].number
    raise Conflict(
        f"このページを開いた後に新しい版（版 {number}）が作られました。何も変更していません。"
        "新しい版の確認結果から直してください",
        f"A newer version (version {number}) was made after this page was opened. Nothing was "
        "changed: fix the rows from the newer version's report",
    )


def _refuse_if_still_wrong(report: dict[str, Any], edits: list[RowEdit]) -> None:
    fixed = {e.row for e in edits if not e.drop}
    wrong = [i for i in report.get("errors", []) if i.get("row") in fixed]
    if not wrong:
        return
    ja = "、".join(f"{i['row']} 行目: {i['message_ja']}" for i in wrong)
    en = "; ".join(f"row {i['row']}: {i['message_en']}" for i in wrong)
    raise InvalidParameter(
        f"直した行にまだ誤りがあります。何も変更していません（{ja}）",
        f"A fixed row still has an error. Nothing was changed ({en})",
    )


def _counting(features: Iterator[Feature], progress: Progress | None) -> Iterator[Feature]:
    if progress is None:
        yield from features
        return
    for count, feature in enumerate(features, start=1):
        if count % 1000 == 0:
            progress(count)
        yield feature
