"""The viewer's third-party files, served by the app itself (no CDN at run time, no build step).

Each npm package's browser files are mounted under ``/vendor/<package>/``. What the first view
needs is also offered joined, one file per kind: ``/vendor/viewer.js`` (Leaflet, then its
VectorGrid plugin: classic scripts, so joining them is what the browser would do anyway) and
``/vendor/leaflet/viewer.css`` (Leaflet's styles, then ours; served beside leaflet.css so its
relative image URLs still resolve). On a phone's six HTTP/1.1 connections with a 3G round trip
of half a second, two requests less in the first wave save a whole round.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

# npm package -> the folder of its browser files
PACKAGES = {"leaflet": "dist", "leaflet.vectorgrid": "dist"}
JOINED = {
    "/vendor/viewer.js": (
        "text/javascript; charset=utf-8",
        ["leaflet/dist/leaflet.js", "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"],
    ),
    "/vendor/leaflet/viewer.css": (
        "text/css; charset=utf-8",
        ["leaflet/dist/leaflet.css", "@web/css/app.css"],
    ),
}


def _joined(vendor_dir: Path, web_dir: Path, parts: list[str]) -> bytes | None:
    files = [
        web_dir / p[len("@web/") :] if p.startswith("@web/") else vendor_dir / p for p in parts
    ]
    if not all(f.is_file() for f in files):
        return None
    # Between scripts a newline and a semicolon: a file that ends without either must not run
    # into the next one.
    separator = b"\n;\n" if parts[0].endswith(".js") else b"\n"
    return separator.join(f.read_bytes() for f in files)


def mount_vendor(app: FastAPI, vendor_dir: Path, web_dir: Path) -> None:
    """Serve the joined first-view files and each package's folder (when npm has installed them)."""
    router = APIRouter(include_in_schema=False)
    for path, (media_type, parts) in JOINED.items():
        body = _joined(vendor_dir, web_dir, parts)
        if body is None:
            continue
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'

        def serve(
            request: Request, body: bytes = body, etag: str = etag, media_type: str = media_type
        ) -> Response:
            headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
            if etag in request.headers.get("if-none-match", ""):
                return Response(status_code=304, headers=headers)
            return Response(body, media_type=media_type, headers=headers)

        router.add_api_route(path, serve, methods=["GET"])
    app.include_router(router)
    for package, folder in PACKAGES.items():
        files = vendor_dir / package / folder
        if files.is_dir():
            app.mount(f"/vendor/{package}", StaticFiles(directory=files), name=package)
