"""The shipped nginx configuration (deploy/nginx), run in front of a test server on loopback.

The main files are copied unchanged; only the two per-place includes are written here
(upstream.conf: the app's address; listen.conf: a free port with a certificate made now).
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.paths import PROJECT
from tests.support.server import answers, free_port
from tests.support.waiting import wait_for

DEPLOY = PROJECT / "deploy" / "nginx"
SHARED_FILES = ("nginx.conf", "mapsvc.conf")
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")


@dataclass
class Proxy:
    """A running nginx: its HTTPS URL, its prefix (logs, cache) and the certificate to trust."""

    url: str
    prefix: Path
    certificate: Path
    process: subprocess.Popen[bytes]

    def trust(self) -> ssl.SSLContext:
        """A TLS context that trusts the test certificate only."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def client(self, **options: object) -> httpx.Client:
        """An HTTP/2 client that trusts the test certificate."""
        return httpx.Client(base_url=self.url, verify=self.trust(), http2=True, **options)  # type: ignore[arg-type]

    def access_log(self) -> list[str]:
        return (self.prefix / "access.log").read_text().splitlines()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, made at test time (never committed)."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / "mapsvc.crt", directory / "mapsvc.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


def write_prefix(prefix: Path, upstream: str, port: int) -> Path:
    """An nginx prefix with the shipped files and this place's includes; the certificate."""
    conf = prefix / "conf"
    conf.mkdir(parents=True)
    for name in SHARED_FILES:
        shutil.copy(DEPLOY / name, conf / name)
    for optional in ("modules.d", "extras.d"):
        (conf / optional).mkdir()
    if BROTLI_MODULE.exists():  # as the .example files say, where the module is installed
        (conf / "modules.d" / "brotli.conf").write_text(f"load_module {BROTLI_MODULE};\n")
        shutil.copy(DEPLOY / "extras.d" / "brotli.conf.example", conf / "extras.d" / "brotli.conf")
    certificate, _ = self_signed_certificate(conf / "certs")
    (conf / "upstream.conf").write_text(f"server {upstream} max_fails=0;\n")
    (conf / "listen.conf").write_text(
        f"listen 127.0.0.1:{port} ssl http2;\n"
        "ssl_certificate certs/mapsvc.crt;\nssl_certificate_key certs/mapsvc.key;\n"
    )
    # The access log goes to a file here (stdout in production) so that tests can read it.
    mapsvc = conf / "mapsvc.conf"
    mapsvc.write_text(
        mapsvc.read_text().replace("access_log /dev/stdout", f"access_log {prefix}/access.log")
    )
    for directory in ("cache", "temp", "logs"):
        (prefix / directory).mkdir()
    if os.geteuid() == 0:  # nginx's workers drop to an unprivileged user
        for path in (prefix, *prefix.rglob("*")):
            path.chmod(0o777 if path.is_dir() else 0o644)
    return certificate


@contextmanager
def nginx_proxy(upstream: str) -> Iterator[Proxy]:
    """Run nginx with the shipped configuration in front of ``upstream`` (host:port)."""
    prefix = Path(tempfile.mkdtemp(prefix="mapsvc-nginx-", dir="/tmp"))
    port = free_port()
    certificate = write_prefix(prefix, upstream, port)
    command = [
        "nginx",
        "-p",
        str(prefix),
        "-c",
        "conf/nginx.conf",
        "-g",
        f"daemon off; pid {prefix}/nginx.pid;",
    ]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    with (prefix / "error.log").open("wb") as errors:
        process = subprocess.Popen(command, stderr=errors)
    proxy = Proxy(f"https://127.0.0.1:{port}", prefix, certificate, process)
    try:
        wait_for(lambda: answers(f"{proxy.url}/healthz", verify=proxy.trust()), what="nginx")
        yield proxy
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)
