"""The viewer's page (``/``) with its configuration inside, and the hashes its CSP allows.

On a 3G phone each round trip costs half a second. With ``web/config.json`` written into the
page, the page's own small script can ask for the first view's tiles at once, beside the scripts
and the layer list, instead of a round trip after them (``web/index.html`` says how). The
configuration stays one file a deployment edits; ``/config.json`` is still served (the offline
copy, and a page served without it reads it from there).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI

from mapsvc.vendor import fixed_file_endpoint

CONFIG_SLOT = '<script type="application/json" id="viewer-config"></script>'
# A classic inline script: no attributes at all (a data block has a type and never runs).
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def render_page(web_dir: Path) -> bytes | None:
    """index.html with config.json in its slot (None: no page)."""
    page = web_dir / "index.html"
    if not page.is_file():
        return None
    html = page.read_text("utf-8")
    config = web_dir / "config.json"
    if config.is_file():
        # "<" escaped: no text in the configuration can close the element early.
        embedded = config.read_text("utf-8").replace("<", "\\u003c")
        html = html.replace(CONFIG_SLOT, CONFIG_SLOT.replace("><", f">{embedded}<", 1))
    return html.encode()


def inline_script_hashes(web_dir: Path) -> list[str]:
    """CSP sources allowing exactly the page's inline scripts, e.g. ``'sha256-…'``."""
    page = web_dir / "index.html"
    scripts = INLINE_SCRIPT.findall(page.read_text("utf-8")) if page.is_file() else []
    digests = (hashlib.sha256(s.encode()).digest() for s in scripts)
    return [f"'sha256-{base64.b64encode(d).decode()}'" for d in digests]


def mount_viewer_page(app: FastAPI, web_dir: Path) -> None:
    """Serve the page at ``/`` (before the static files, which still serve everything else)."""
    body = render_page(web_dir)
    if body is None:
        return
    # Browsers revalidate on every visit (a 304 is tiny), so a deployment's new page is seen at
    # once; the proxy keeps it a minute, so a crowd's first visits never reach the app for it.
    viewer = fixed_file_endpoint(body, "text/html; charset=utf-8", "public, max-age=0, s-maxage=60")
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/", viewer, methods=["GET"])
    router.add_api_route("/index.html", viewer, methods=["GET"])
    app.include_router(router)
