"""Loopback stand-ins for the places municipalities publish files: a plain file host, a
CKAN-shaped catalogue (Action API ``package_show``) and a BODIK-API-shaped server.

One threaded HTTP server on 127.0.0.1 answers each path from a route the test sets and
changes; every request is recorded (path and headers) so a test can see what the harvester
sent. The BODIK shape follows its public manual as other clients use it:
``GET /{apiname}?select_type=data&municipalityCode=…&maxResults=…&offset=…`` answers
``{"resultsets": {"features": [GeoJSON features]}}``, a page at a time.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """What a route answers: status, headers, body; ``drip_s`` sends the body a byte at a time."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip_s: float | None = None
    stall_s: float | None = None  # headers, then silence this long
    length: bool = True  # send Content-Length (else the body ends when the connection closes)


Route = Callable[[dict[str, list[str]], dict[str, str]], Reply]


class FileHost:
    """A loopback HTTP server whose routes a test sets: files, redirects, failures, catalogues."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with host._lock:
                    host.requests.append((self.path, headers))
                route = host.routes.get(parts.path)
                reply = route(parse_qs(parts.query), headers) if route else Reply(404, b"no")
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if reply.stall_s:
                        self.wfile.flush()
                        time.sleep(reply.stall_s)
                    if reply.drip_s is None:
                        self.wfile.write(reply.body)
                        return
                    for byte in reply.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.drip_s)
                except OSError:
                    pass  # the client cut the connection: what the tests want to see

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # (certificate, key): answer https
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        """The paths requested so far."""
        with self._lock:
            return [path for path, _ in self.requests]

    def file(self, path: str, content: bytes, *, content_type: str = "text/csv") -> None:
        """Serve ``content`` at ``path`` with an ETag and Last-Modified, answering 304 to a match."""
        etag = '"' + hashlib.sha256(content).hexdigest()[:16] + '"'
        modified = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())

        def route(_: dict[str, list[str]], headers: dict[str, str]) -> Reply:
            if headers.get("if-none-match") == etag:
                return Reply(304, headers={"ETag": etag})
            return Reply(
                body=content,
                headers={"ETag": etag, "Last-Modified": modified, "Content-Type": content_type},
            )

        self.routes[path] = route

    def plain(self, path: str, reply: Reply) -> None:
        """Serve the same reply at ``path`` whatever was asked (no validators)."""
        self.routes[path] = lambda _query, _headers: reply

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        """Redirect ``path`` to ``location``."""
        self.plain(path, Reply(status, headers={"Location": location}))

    def ckan_dataset(self, dataset: str, resources: list[dict[str, str]], tags: list[str]) -> None:
        """A CKAN dataset answered by ``/api/3/action/package_show?id=<dataset>``."""
        known = getattr(self, "_ckan", {})
        known[dataset] = {
            "id": dataset,
            "name": dataset,
            "metadata_modified": "2026-04-01T00:00:00",
            "tags": [{"name": t, "display_name": t} for t in tags],
            "resources": [dict(r, position=str(i)) for i, r in enumerate(resources)],
        }
        self._ckan = known

        def package_show(query: dict[str, list[str]], _: dict[str, str]) -> Reply:
            found = known.get(query.get("id", [""])[0])
            if found is None:
                body = {"success": False, "error": {"__type": "Not Found Error"}}
                return Reply(404, json.dumps(body).encode())
            return Reply(body=json.dumps({"success": True, "result": found}).encode())

        self.routes["/api/3/action/package_show"] = package_show

    def bodik(self, apiname: str, records: dict[str, list[dict[str, Any]]]) -> None:
        """A BODIK-API-shaped ``/{apiname}``: ``records`` by municipality code, paged."""

        def api(query: dict[str, list[str]], _: dict[str, str]) -> Reply:
            if query.get("select_type", [""])[0] != "data":
                return Reply(400, b'{"status":400,"error_message":"select_type"}')
            rows = records.get(query.get("municipalityCode", [""])[0], [])
            offset = int(query.get("offset", ["0"])[0])
            size = int(query.get("maxResults", ["10"])[0])
            features = [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                    "properties": r,
                }
                for r in rows[offset : offset + size]
            ]
            body = {"resultsets": {"type": "FeatureCollection", "features": features}}
            return Reply(body=json.dumps(body, ensure_ascii=False).encode())

        self.routes[f"/{apiname}"] = api

    @contextmanager
    def running(self) -> Iterator[FileHost]:
        """Serve until the block ends."""
        thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate (and key) for ``name``, made with the openssl command; trust it with
    ``SSL_CERT_FILE``."""
    certificate, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


@contextmanager
def file_host() -> Iterator[FileHost]:
    """A running loopback file host."""
    with FileHost().running() as host:
        yield host
