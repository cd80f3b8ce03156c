"""A real uvicorn server on a free port, for clients that speak HTTP (ogctests, GDAL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import httpx


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def uvicorn_server(python: str, app: list[str], env: dict[str, str], probe: str) -> Iterator[str]:
    """Run ``python -m uvicorn <app…>`` on a free port until ``probe`` answers 200; yield the URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            *app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-proxy-headers",  # as `mapsvc serve`: the app decides whom to trust
            "--log-level",
            "warning",
        ],
        env=dict(os.environ, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}{probe}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the server ({' '.join(app)}) did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


LIVE_SECRET = "live-test"  # noqa: S105 (a test server's API-key secret, not a credential)


def live_server(database_url: str, **settings: str) -> AbstractContextManager[str]:
    """Serve mapsvc on the given database (and ``MAPSVC_*`` settings); yield its base URL."""
    env = {"MAPSVC_DATABASE__URL": database_url, "MAPSVC_AUTH__SECRET": LIVE_SECRET, **settings}
    return uvicorn_server(sys.executable, ["--factory", "mapsvc.app:create_app"], env, "/healthz")


def slow_reader(base: str, path: str) -> socket.socket:
    """A GET of ``path`` whose client then reads nothing (a 2 KB receive buffer)."""
    host, port = base.removeprefix("http://").split(":")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.connect((host, int(port)))
    s.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    return s
