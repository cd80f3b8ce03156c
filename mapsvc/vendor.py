"""The viewer's third-party files, served by the app itself (no CDN at run time, no build step).

Each npm package's browser files are mounted under ``/vendor/<package>/``. What the first view
needs is also offered joined, one file per kind: ``/vendor/viewer.js`` (Leaflet, then its
VectorGrid plugin: classic scripts, so joining them is what the browser would do anyway) and
``/vendor/leaflet/viewer.css`` (Leaflet's styles, then ours; served beside leaflet.css so its
relative image URLs still resolve). On a phone's six HTTP/1.1 connections with a 3G round trip
of half a second, two requests less in the first wave save a whole round.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path

import brotli
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from mapsvc.api.caching import matches_if_none_match
from mapsvc.edge.compression import preferred_encoding

# npm package -> the folder of its browser files
PACKAGES = {
    "leaflet": "dist",
    "leaflet.vectorgrid": "dist",
    "swagger-ui-dist": ".",
    "qrcode-generator": "dist",  # the viewer's "share with family" QR code (web/js/share.js)
}


def _first_view_files(vendor_dir: Path, web_dir: Path) -> dict[str, tuple[str, list[Path]]]:
    """URL -> (media type, the files joined in order)."""
    leaflet = vendor_dir / "leaflet" / "dist"
    return {
        "/vendor/viewer.js": (
            "text/javascript; charset=utf-8",
            [
                leaflet / "leaflet.js",
                vendor_dir / "leaflet.vectorgrid" / "dist" / "Leaflet.VectorGrid.bundled.min.js",
            ],
        ),
        "/vendor/leaflet/viewer.css": (
            "text/css; charset=utf-8",
            [leaflet / "leaflet.css", web_dir / "css" / "app.css"],
        ),
    }


def _joined(files: list[Path]) -> bytes:
    # Between scripts a newline and a semicolon: a file that ends without either must not run
    # into the next one. Not in CSS, where a stray semicolon would spoil the next rule.
    separator = b"\n;\n" if files[0].suffix == ".js" else b"\n"
    return separator.join(f.read_bytes() for f in files)


def _compressed(body: bytes) -> dict[str, bytes]:
    """The body as sent for each encoding, compressed once at the highest levels.

    On a 3G phone's first visit Leaflet is the largest file: brotli 11 makes it 49 KB, nginx's
    level 5 55 KB, the app's gzip level 3 64 KB, and there a KB costs about 10 ms.
    """
    return {
        "br": brotli.compress(body, quality=11),
        "gzip": gzip.compress(body, compresslevel=9, mtime=0),
        "": body,
    }


def fixed_file_endpoint(
    body: bytes, media_type: str, cache_control: str
) -> Callable[[Request], Response]:
    """A GET endpoint for bytes made at start-up, compressed once per encoding, with an ETag."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    encoded = _compressed(body)
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}

    def serve(request: Request) -> Response:
        if matches_if_none_match(request.headers.get("if-none-match", ""), etag):
            return Response(status_code=304, headers=headers)
        encoding = preferred_encoding(request.headers.get("accept-encoding", ""))
        sent = headers | ({"Content-Encoding": encoding} if encoding else {})
        return Response(encoded[encoding], media_type=media_type, headers=sent)

    return serve


def mount_vendor(app: FastAPI, vendor_dir: Path, web_dir: Path) -> None:
    """Serve the joined first-view files and each package's folder (when npm has installed them)."""
    router = APIRouter(include_in_schema=False)
    for path, (media_type, files) in _first_view_files(vendor_dir, web_dir).items():
        if not all(f.is_file() for f in files):
            continue  # npm has not installed the packages: nothing to join
        serve = fixed_file_endpoint(_joined(files), media_type, "public, max-age=300")
        router.add_api_route(path, serve, methods=["GET"])
    app.include_router(router)
    for package, folder in PACKAGES.items():
        directory = vendor_dir / package / folder
        if directory.is_dir():
            app.mount(f"/vendor/{package}", StaticFiles(directory=directory), name=package)
