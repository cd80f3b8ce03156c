"""Commands for municipal data: import a file, list and show versions, publish, roll back, diff."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from importers import ImportRejected, ImportReport, read_records, to_features
from importers.codes import to_code6
from mapsvc.cli.common import CLI_ACTOR, layer_of, print_report, progress, session_scope
from mapsvc.db import queries
from mapsvc.preview import render_preview
from mapsvc.services import datasets
from mapsvc.services.uploads import UploadRejected, UploadRequest, import_options
from mapsvc.settings import PROJECT_DIR, Settings

LOCAL_LEAFLET = (PROJECT_DIR / "node_modules" / "leaflet" / "dist").as_uri()


def _request(args: argparse.Namespace) -> UploadRequest:
    columns = json.loads(args.columns) if args.columns else {}
    return UploadRequest(
        args.format,
        args.encoding,
        args.crs,
        args.sheet,
        args.source_layer,
        columns,
        getattr(args, "publish", False),
        getattr(args, "accept_partial", False),
    )


def _emit(
    args: argparse.Namespace, report: dict[str, Any], filename: str, extra: dict[str, Any]
) -> None:
    if args.json:
        print(json.dumps(report | extra, ensure_ascii=False))
    else:
        print_report(report, filename)
        for key, value in extra.items():
            print(f"{key}: {value}")


def _dry_run(
    settings: Settings, args: argparse.Namespace, content: bytes
) -> tuple[dict[str, Any], bool]:
    """Parse, map and validate without writing; the boundary check needs --municipality."""
    layer = layer_of(args.layer)
    boundary = None
    if args.municipality:
        with session_scope(settings) as session:
            boundary = queries.buffered_boundary(
                session, to_code6(args.municipality), settings.imports.boundary_tolerance_m
            )
    from mapsvc.services.seed import SeedManifest

    options = import_options(
        layer,
        _request(args),
        settings,
        boundary,
        SeedManifest.read(settings.seed_manifest).plane_srid,
    )
    report = ImportReport()
    fmt = args.format
    try:
        fmt, records = read_records(content, args.file.name, options, report)
        for count, _ in enumerate(to_features(records, layer, report, options), start=1):
            if count % 1000 == 0:
                progress(count)
    except ImportRejected as exc:
        return report.as_rejection(exc.issue, fmt), False
    ok = report.accepted > 0 and (not report.errors or args.accept_partial)
    return report.as_dict() | {"format": fmt}, ok


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import a file as a new version of a dataset (exit 1 when it is rejected)."""
    content = args.file.read_bytes()
    if args.dry_run:
        report, ok = _dry_run(settings, args, content)
        _emit(args, report, args.file.name, {"dry_run": True})
        return 0 if ok else 1
    if not args.municipality:
        print("mapsvc: --municipality is required (except with --dry-run)", file=sys.stderr)
        return 2
    layer = layer_of(args.layer)
    with session_scope(settings) as session:
        try:
            result = datasets.upload_file(
                session,
                settings,
                layer,
                to_code6(args.municipality),
                content,
                args.file.name,
                _request(args),
                CLI_ACTOR,
                progress,
            )
        except UploadRejected as rejected:
            _emit(args, rejected.report, args.file.name, {"version_id": None})
            return 1
        view = datasets.version_view(result.version)
    status = (
        view["status"]
        if result.created
        else f"{view['status']} (同じファイルは登録済み / already uploaded)"
    )
    _emit(args, view["report"], args.file.name, {"version_id": view["id"], "status": status})
    return 0


def cmd_versions_list(settings: Settings, args: argparse.Namespace) -> int:
    """List a dataset's versions."""
    with session_scope(settings) as session:
        for v in datasets.versions(session, args.layer, to_code6(args.municipality)):
            view = datasets.version_view(v, report=False)
            print(
                f"{view['id']}\t{view['status']}\t{view['features']}\t{view['created_at']}\t"
                f"{view['created_by']}\t{view['filename']}"
            )
    return 0


def cmd_versions_show(settings: Settings, args: argparse.Namespace) -> int:
    """Show one version and its report."""
    with session_scope(settings) as session:
        view = datasets.version_view(
            datasets.version(session, args.layer, to_code6(args.municipality), args.id)
        )
    if args.json:
        print(json.dumps(view, ensure_ascii=False))
    else:
        print_report(view["report"], view["filename"])
        print(
            f"version_id: {view['id']}  status: {view['status']}  created: {view['created_at']} by {view['created_by']}"
        )
    return 0


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Publish a staged version."""
    with session_scope(settings) as session:
        version = datasets.publish_version(
            session, args.layer, to_code6(args.municipality), args.id, CLI_ACTOR
        )
        print(f"公開しました / published: version {version.id}")
    return 0


def cmd_rollback(settings: Settings, args: argparse.Namespace) -> int:
    """Roll a dataset back to an earlier published version."""
    with session_scope(settings) as session:
        version = datasets.rollback_to(
            session, args.layer, to_code6(args.municipality), args.to, CLI_ACTOR
        )
        print(f"戻しました / rolled back to: version {version.id}")
    return 0


def cmd_diff(settings: Settings, args: argparse.Namespace) -> int:
    """Compare two versions of a dataset."""
    with session_scope(settings) as session:
        result = datasets.diff(
            session, layer_of(args.layer), to_code6(args.municipality), args.old, args.new
        )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    counts = result["counts"]
    print(
        f"追加 added {counts['added']}, 削除 removed {counts['removed']}, "
        f"変更 changed {counts['changed']}, 同じ unchanged {counts['unchanged']}"
    )
    for kind, sign in (("added", "+"), ("removed", "-"), ("changed", "~")):
        for item in result[kind]:
            detail = ", ".join(item.get("attributes", {}))
            moved = f" moved {item['moved_m']} m" if item.get("moved_m") else ""
            print(f"{sign} {item['key']} {item.get('name') or ''} {detail}{moved}".rstrip())
    return 0


def cmd_preview(settings: Settings, args: argparse.Namespace) -> int:
    """Write a map (HTML) of a file's features without touching the database."""
    layer = layer_of(args.layer)
    options = import_options(layer, _request(args), settings, None, None)
    report = ImportReport()
    try:
        _, records = read_records(args.file.read_bytes(), args.file.name, options, report)
        features = [
            (f.__geo_interface__["geometry"], dict(f.properties), f.row)
            for f in to_features(records, layer, report, options)
        ]
    except ImportRejected as exc:
        report.errors.insert(0, exc.issue)
        features = []
    args.output.write_text(
        render_preview(layer, features, report.as_dict(), LOCAL_LEAFLET), "utf-8"
    )
    print(
        f"{args.output}: {report.accepted:,} / {report.rows:,} (accepted / rows), {len(report.errors)} errors"
    )
    return 0 if features else 1


def add_file_options(command: argparse.ArgumentParser) -> None:
    """The options that say how to read a file."""
    command.add_argument("file", type=Path, help="the data file")
    command.add_argument(
        "--layer", required=True, help="catalog layer id (see `mapsvc layers list`)"
    )
    command.add_argument(
        "--format", help="csv, xlsx, geojson, shapefile, kml, gpkg, gtfs (default: detected)"
    )
    command.add_argument("--encoding", help="text encoding, e.g. cp932 (default: detected)")
    command.add_argument("--crs", type=int, help="EPSG code of the coordinates, e.g. 6674")
    command.add_argument("--sheet", help="Excel sheet (default: the first)")
    command.add_argument("--source-layer", help="GeoPackage layer or shapefile name inside a zip")
    command.add_argument(
        "--columns", help='JSON {"header": "attribute"} for headers not recognised'
    )
    command.add_argument(
        "--accept-partial", action="store_true", help="stage the good rows even if some rows fail"
    )
