"""Load the bundled demo data set, idempotently, through the ordinary stage-and-publish path."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session, sessionmaker

from importers import Feature, ImportReport, read_geojson, to_features
from layers import Catalog, LayerDefinition
from mapsvc.db import queries, writes
from mapsvc.errors import UploadRejected
from mapsvc.services import uploads
from mapsvc.services.versions import SourceFile, publish, stage
from mapsvc.settings import Settings

DEMO_ACTOR = "system:demo"


class DemoDataError(RuntimeError):
    """A demo file does not import cleanly: the bundled data and the catalog disagree."""


@dataclass
class DemoResult:
    """What a load did."""

    files_loaded: int = 0
    files_skipped: int = 0
    versions_published: int = 0
    features: int = 0
    by_layer: dict[str, int] = field(default_factory=dict)


def _owner(feature: Feature, path: Path, *, rule: str, wards: dict[str, str | None]) -> str:
    """The owning municipality: a ward's features belong to its designated city's dataset."""
    code = (
        path.stem
        if rule == "filename"
        else str(feature.properties[rule.removeprefix("attribute:")])
    )
    if code not in wards:
        raise DemoDataError(f"{path.name} row {feature.row}: unknown municipality {code}")
    return wards[code] or code


def _upload(
    sessions: sessionmaker[Session],
    settings: Settings,
    layer: LayerDefinition,
    source: dict[str, Any],
    path: Path,
    result: DemoResult,
) -> None:
    """One file as a municipality's upload would be: the upload use case, published at once."""
    request = uploads.upload_request(
        columns=orjson.dumps(source["columns"]).decode() if "columns" in source else None,
        where=orjson.dumps(source["where"]).decode() if "where" in source else None,
        publish=True,
        accept_partial=bool(source.get("accept_partial")),
        data_date=source.get("data_date"),
    )
    with sessions() as session:
        try:
            done = uploads.upload(
                session,
                settings,
                layer=layer,
                municipality=source["municipality"],
                source=SourceFile(path.read_bytes(), path.name, "auto"),
                request=request,
                actor=DEMO_ACTOR,
            )
        except UploadRejected as rejected:
            first = (rejected.report.get("errors") or [{}])[0]
            raise DemoDataError(f"{path.name} ({layer.id}): {first}") from rejected
    if not done.created:
        result.files_skipped += 1
        return
    count = done.version.feature_count
    result.files_loaded += 1
    result.versions_published += 1
    result.features += count
    result.by_layer[layer.id] = result.by_layer.get(layer.id, 0) + count


def load_demo(
    sessions: sessionmaker[Session],
    catalog: Catalog,
    manifest: Path,
    settings: Settings | None = None,
) -> DemoResult:
    """Load every demo file not loaded before; each file in one transaction (all or nothing).

    Sources filed under one municipality go through the upload use case (``uploads.upload``):
    the same reading, checks and row filter a municipality's upload gets. Prefecture-wide
    files that carry each feature's municipality are split by it, then staged per municipality.
    """
    result = DemoResult()
    settings = settings or Settings()
    sources = tomllib.loads(manifest.read_text("utf-8"))["sources"]
    with sessions() as session:
        # code -> its designated city for wards, None for every other municipality
        wards = {
            m.code: m.parent_code if m.kind == "ward" else None
            for m in queries.list_municipalities(session)
        }
    for source in sources:
        layer = catalog[source["layer"]]
        for path in sorted(manifest.parent.glob(source["files"])):
            if source["municipality"].isdigit():
                _upload(sessions, settings, layer, source, path, result)
                continue
            content = path.read_bytes()
            file = SourceFile(content, path.name, source["format"])
            with sessions() as session, session.begin():
                if queries.version_with_source(session, file.sha256):
                    result.files_skipped += 1
                    continue
                report = ImportReport()
                groups: dict[str, list[Feature]] = defaultdict(list)
                for feature in to_features(read_geojson(content), layer, report):
                    groups[_owner(feature, path, rule=source["municipality"], wards=wards)].append(
                        feature
                    )
                if report.errors:
                    raise DemoDataError(f"{path.name}: {report.errors[0].message_en}")
                for code, features in sorted(groups.items()):
                    part = ImportReport(rows=len(features), accepted=len(features))
                    version, _ = stage(
                        session,
                        layer_id=layer.id,
                        municipality_code=code,
                        source=file,
                        features=features,
                        report=part,
                        actor=DEMO_ACTOR,
                        extra_report={"split_from_rows": report.rows},
                    )
                    publish(session, version.id, DEMO_ACTOR)
                    result.versions_published += 1
                    result.features += len(features)
                    result.by_layer[layer.id] = result.by_layer.get(layer.id, 0) + len(features)
                result.files_loaded += 1
    if result.files_loaded:
        with sessions() as session, session.begin():
            writes.analyze(session)
    return result
