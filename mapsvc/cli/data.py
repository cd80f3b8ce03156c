"""Commands for municipal data: import a file, list and show versions, publish, roll back, diff."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from importers.codes import to_code6
from mapsvc.cli.common import CLI_ACTOR, layer_of, print_report, progress, session_scope
from mapsvc.errors import UploadRejected
from mapsvc.preview import render_preview
from mapsvc.services import datasets, uploads
from mapsvc.services.uploads import UploadRequest
from mapsvc.services.versions import SourceFile
from mapsvc.settings import PROJECT_DIR, Settings

LOCAL_LEAFLET = (PROJECT_DIR / "node_modules" / "leaflet" / "dist").as_uri()


def _request(args: argparse.Namespace) -> UploadRequest:
    return uploads.upload_request(
        format=args.format,
        encoding=args.encoding,
        crs=args.crs,
        sheet=args.sheet,
        source_layer=args.source_layer,
        columns=args.columns,
        where=args.where,
        data_date=args.data_date,
        publish=getattr(args, "publish", False),
        accept_partial=getattr(args, "accept_partial", False),
        town_positions=args.town_positions,
    )


def _source(args: argparse.Namespace) -> SourceFile:
    return SourceFile(args.file.read_bytes(), args.file.name, args.format or "auto")


def _emit(
    args: argparse.Namespace, report: dict[str, Any], filename: str, *, extra: dict[str, Any]
) -> None:
    if args.json:
        print(json.dumps(report | extra, ensure_ascii=False))
    else:
        print_report(report, filename)
        for key, value in extra.items():
            print(f"{key}: {value}")


def _dry_run(settings: Settings, args: argparse.Namespace) -> int:
    """Validate without writing; the boundary check needs --municipality (and the database)."""
    code = to_code6(args.municipality) if args.municipality else None
    scope = session_scope(settings) if code else nullcontext()
    with scope as session:
        try:
            report = uploads.validate(
                session,
                settings,
                layer=layer_of(args.layer),
                source=_source(args),
                request=_request(args),
                municipality=code,
                progress=progress,
            )
        except UploadRejected as rejected:
            _emit(args, rejected.report, args.file.name, extra={"dry_run": True})
            return 1
    _emit(args, report, args.file.name, extra={"dry_run": True})
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import a file as a new version of a dataset (exit 1 when it is rejected)."""
    if args.dry_run:
        return _dry_run(settings, args)
    if not args.municipality:
        print("mapsvc: --municipality is required (except with --dry-run)", file=sys.stderr)
        return 2
    layer = layer_of(args.layer)
    request, source = _request(args), _source(args)
    with session_scope(settings) as session:
        try:
            result = uploads.upload(
                session,
                settings,
                layer=layer,
                municipality=to_code6(args.municipality),
                source=source,
                request=request,
                actor=CLI_ACTOR,
                progress=progress,
            )
        except UploadRejected as rejected:
            _emit(args, rejected.report, args.file.name, extra={"version_id": None})
            return 1
        view = result.version.as_json()
    status = (
        view["status"]
        if result.created
        else f"{view['status']} (同じファイルは登録済み / already uploaded)"
    )
    _emit(args, view["report"], args.file.name, extra={"version_id": view["id"], "status": status})
    return 0


def cmd_versions_list(settings: Settings, args: argparse.Namespace) -> int:
    """List a dataset's versions."""
    with session_scope(settings) as session:
        code = to_code6(args.municipality)
        for v in datasets.versions(session, args.layer, code, limit=args.limit):
            view = v.as_json(report=False)
            print(
                f"{view['id']}\t{view['status']}\t版 {view['number']}\t{view['features']}\t"
                f"{view['created_at']}\t"
                f"{view['created_by']}\t{view['filename']}"
            )
    return 0


def cmd_versions_show(settings: Settings, args: argparse.Namespace) -> int:
    """Show one version and its report."""
    with session_scope(settings) as session:
        found = datasets.version(
            session, args.layer, to_code6(args.municipality), version_id=args.id
        )
        view = found.as_json()
    if args.json:
        print(json.dumps(view, ensure_ascii=False))
    else:
        print_report(view["report"], view["filename"])
        print(
            f"version_id: {view['id']}  版 number: {view['number']}  status: {view['status']}  "
            f"created: {view['created_at']} by {view['created_by']}"
        )
    return 0


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Publish a staged version."""
    with session_scope(settings) as session:
        version = datasets.publish_version(
            session,
            args.layer,
            to_code6(args.municipality),
            version_id=args.id,
            actor=CLI_ACTOR,
            accept_dropped_rows=args.accept_dropped_rows,
        )
        print(f"公開しました / published: version {version.id}")
    return 0


def cmd_rollback(settings: Settings, args: argparse.Namespace) -> int:
    """Roll a dataset back to an earlier published version."""
    with session_scope(settings) as session:
        version = datasets.rollback_to(
            session, args.layer, to_code6(args.municipality), version_id=args.to, actor=CLI_ACTOR
        )
        print(f"戻しました / rolled back to: version {version.id}")
    return 0


def cmd_diff(settings: Settings, args: argparse.Namespace) -> int:
    """Compare two versions of a dataset."""
    with session_scope(settings) as session:
        result = datasets.diff(
            session, layer_of(args.layer), to_code6(args.municipality), old=args.old, new=args.new
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
    try:
        reading = uploads.read(
            None, settings, layer=layer, source=_source(args), request=_request(args)
        )
        features = [
            (f.__geo_interface__["geometry"], dict(f.properties), f.row) for f in reading.features
        ]
        report: dict[str, Any] = reading.report.as_dict()
    except UploadRejected as rejected:  # the report lists the file-level problem first
        report, features = rejected.report, []
    args.output.write_text(
        render_preview(layer, features, report, leaflet_url=LOCAL_LEAFLET), "utf-8"
    )
    print(
        f"{args.output}: {report['accepted']:,} / {report['rows']:,} (accepted / rows), "
        f"{len(report['errors'])} errors"
    )
    return 0 if features else 1


def add_file_options(command: argparse.ArgumentParser) -> None:
    """The options that say how to read a file."""
    command.add_argument("file", type=Path, help="the data file")
    command.add_argument(
        "--layer", required=True, help="catalog layer id (see `mapsvc layers list`)"
    )
    add_reading_options(command)


def add_reading_options(command: argparse.ArgumentParser) -> None:
    """The options of how to read a file: an upload's, and a harvest source's."""
    command.add_argument(
        "--format",
        help="csv, xlsx, xls, ods, geojson, shapefile, kml, gpkg, gtfs (default: detected)",
    )
    command.add_argument("--encoding", help="text encoding, e.g. cp932 (default: detected)")
    command.add_argument(
        "--crs", help="CRS of the coordinates: 6674, EPSG:4301, a URN, or a name (pyproj's forms)"
    )
    command.add_argument("--sheet", help="Excel sheet (default: the first)")
    command.add_argument("--source-layer", help="GeoPackage layer or shapefile name inside a zip")
    command.add_argument(
        "--columns", help='JSON {"header": "attribute"} for headers not recognised'
    )
    command.add_argument(
        "--where", help='rows to keep, JSON {"header": ["value", …]} (one file, several layers)'
    )
    command.add_argument(
        "--data-date", help="when the data describes the world: 2015, 2026-04 or 2026-04-01"
    )
    command.add_argument(
        "--accept-partial", action="store_true", help="stage the good rows even if some rows fail"
    )
    command.add_argument(
        "--town-positions",
        action="store_true",
        help="place rows with an address but no coordinates at the centre of their 町丁目 "
        "(approximate, with a warning on each row)",
    )
