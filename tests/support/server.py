"""A real uvicorn server on a free port, for clients that speak HTTP (ogctests, GDAL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.waiting import wait_for


def answers(url: str, **options: Any) -> int | None:
    """The status of a GET of ``url``, or None while nothing listens there yet."""
    try:
        return httpx.get(url, timeout=2, **options).status_code
    except httpx.TransportError:
        return None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def uvicorn_server(python: str, app: list[str], env: dict[str, str], probe: str) -> Iterator[str]:
    """Run ``python -m uvicorn <app…>`` on a free port until ``probe`` answers 200; yield the URL."""
    port = free_port()
    # The links the server hands out (one-time links) name where it really is, as `mapsvc serve`'s
    # default public URL does; a test that wants another one passes MAPSVC_PUBLIC_URL itself.
    env = {"MAPSVC_PUBLIC_URL": f"http://127.0.0.1:{port}", **env}
    command = [
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
    ]
    with _serving(command, env, port, probe, subprocess.DEVNULL) as (base, _):
        yield base


@contextmanager
def _serving(
    command: list[str], env: dict[str, str], port: int, probe: str, output: Any
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    process = subprocess.Popen(
        command, env=dict(os.environ, **env), stdout=output, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{base}{probe}") == 200, timeout=60, what=" ".join(command))
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def mapsvc_serve(
    database_url: str, *, workers: int, log: Path, **settings: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``mapsvc serve --workers N`` as deployed (JSON logs to ``log``); yield URL and process."""
    port = free_port()
    env = {"MAPSVC_DATABASE__URL": database_url, "MAPSVC_AUTH__SECRET": LIVE_SECRET, **settings}
    command = [
        sys.executable,
        "-m",
        "mapsvc",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("wb") as output, _serving(command, env, port, "/readyz", output) as served:
        yield served


def worker_pids(server: subprocess.Popen[bytes]) -> set[int]:
    """The worker processes of a ``mapsvc serve`` (children of its supervisor)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return {int(pid) for pid in children if _is_worker(int(pid))}


def _is_worker(pid: int) -> bool:
    try:  # multiprocessing's resource tracker is a child too; workers run the spawn entry point
        return b"multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


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


@dataclass(frozen=True)
class ServerEnd:
    """The server's end of a client's TCP connection, as the kernel shows it (/proc/net/tcp)."""

    established: bool
    unsent_bytes: int  # written by the server, not yet taken by the client (nor acknowledged)


def server_end(client: socket.socket) -> ServerEnd | None:
    """The server's end of ``client``'s loopback connection; None once the kernel has let it go.

    What a client that reads nothing cannot see for itself: whether the server is sending to it
    and its bytes pile up.
    """
    local = f"{client.getsockname()[1]:04X}"
    remote = f"{client.getpeername()[1]:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{remote}") and fields[2].endswith(f":{local}"):
            return ServerEnd(fields[3] == "01", int(fields[4].split(":")[0], 16))
    return None
