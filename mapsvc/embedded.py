"""The embedded default database: a private PostgreSQL + PostGIS cluster in a directory of its own.

``initdb`` refuses to run as root, so as root the cluster runs as an unprivileged OS user
(``postgres`` by default) in a directory outside the project, which that user may not be able to
reach. It listens on 127.0.0.1 on its own port and authenticates with a generated password.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mapsvc.settings import PROJECT_DIR, DatabaseSettings

SUPERUSER = "mapsvc"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded cluster cannot be set up or started; the message says what to do."""


def find_pg_bin() -> Path:
    """The newest PostgreSQL ``bin`` directory whose server has the PostGIS extension installed."""
    candidates = []
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bin_dir.parent.name
        postgis = Path(f"/usr/share/postgresql/{version}/extension/postgis.control")
        if (bin_dir / "initdb").exists() and postgis.exists() and version.isdigit():
            candidates.append((int(version), bin_dir))
    if not candidates:
        raise EmbeddedDatabaseError(
            "No PostgreSQL with PostGIS found: run `./scripts/setup.sh` "
            "(or `apt-get install postgresql-15-postgis-3`)"
        )
    return max(candidates)[1]


def default_state_dir() -> Path:
    """Where the cluster lives: ``.mapsvc/`` in the project, or ``/var/lib/mapsvc/…`` as root."""
    if os.geteuid() != 0:
        return PROJECT_DIR / ".mapsvc"
    digest = hashlib.sha256(str(PROJECT_DIR).encode()).hexdigest()[:10]
    return Path("/var/lib/mapsvc") / f"{PROJECT_DIR.name}-{digest}"


def state_dir_of(settings: DatabaseSettings) -> Path:
    """Where the settings' cluster lives (no file is read: the port needs ``from_settings``)."""
    return settings.embedded_dir or default_state_dir()


@dataclass(frozen=True)
class EmbeddedCluster:
    """A private cluster in ``state_dir``.

    ``state_dir/password`` belongs to the caller; ``state_dir/cluster/`` (``data/``,
    ``postgres.log``, the socket) to the server's OS user.
    """

    state_dir: Path
    port: int
    os_user: str

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> EmbeddedCluster:
        """The cluster the settings describe; its port, unless set, is its own (``cluster_port``)."""
        state_dir = state_dir_of(settings)
        port = settings.embedded_port or cluster_port(state_dir)
        return cls(state_dir, port, settings.embedded_os_user)

    @property
    def cluster_dir(self) -> Path:
        """The directory the server's OS user owns."""
        return self.state_dir / "cluster"

    @property
    def data_dir(self) -> Path:
        """PGDATA."""
        return self.cluster_dir / "data"

    @property
    def log_file(self) -> Path:
        """The server log, the first place to look when it does not start."""
        return self.cluster_dir / "postgres.log"

    @property
    def _password_file(self) -> Path:
        return self.state_dir / "password"

    def _as_server_user(self) -> list[str]:
        return ["runuser", "-u", self.os_user, "--"] if os.geteuid() == 0 else []

    def run_tool(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program (``pg_basebackup``, ``pg_ctl``…) as the server's OS user."""
        return self._run(*args, check=check)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*self._as_server_user(), str(find_pg_bin() / args[0]), *args[1:]]
        result = subprocess.run(  # noqa: S603 - fixed binaries, arguments from settings
            command, cwd=self.cluster_dir, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise EmbeddedDatabaseError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}\n"
                f"See {self.log_file}"
            )
        return result

    def password(self) -> str:
        """The superuser's password, generated at initialisation."""
        try:
            return self._password_file.read_text().strip()
        except FileNotFoundError:
            raise EmbeddedDatabaseError(
                f"The embedded database in {self.state_dir} is not initialised: "
                "run `mapsvc db start`"
            ) from None

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` in this cluster."""
        return (
            f"postgresql+psycopg://{SUPERUSER}:{self.password()}@127.0.0.1:{self.port}/{database}"
        )

    def is_initialised(self) -> bool:
        """Whether initdb has run."""
        return (self.data_dir / "PG_VERSION").exists() and self._password_file.exists()

    def initialise(self) -> None:
        """Run initdb once: a UTF-8 cluster whose only login is a password-protected superuser."""
        if self.is_initialised():
            return
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.data_dir.exists():  # a half-finished earlier attempt: nothing in it is published
            shutil.rmtree(self.data_dir)
        self.cluster_dir.mkdir(exist_ok=True, mode=0o700)
        password = secrets.token_urlsafe(24)
        pwfile = self.cluster_dir / "initdb-password"
        pwfile.write_text(password)
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(self.os_user)
            except KeyError:
                raise EmbeddedDatabaseError(
                    f"OS user {self.os_user!r} does not exist: PostgreSQL must run as an "
                    "unprivileged user when mapsvc runs as root (MAPSVC_DATABASE__EMBEDDED_OS_USER)"
                ) from None
            os.chmod(self.state_dir, 0o711)  # noqa: S103 - the server user only traverses it
            for path in (self.cluster_dir, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
            reach = [*self._as_server_user(), "test", "-w", str(self.cluster_dir)]
            if subprocess.run(reach, check=False).returncode != 0:  # noqa: S603
                pwfile.unlink()
                raise EmbeddedDatabaseError(
                    f"OS user {self.os_user!r} cannot reach {self.cluster_dir} (a parent "
                    "directory is private): set MAPSVC_DATABASE__EMBEDDED_DIR to a directory "
                    "it can reach, such as one under /var/lib"
                )
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
            )
        finally:
            pwfile.unlink()
        self._password_file.write_text(password)
        self._password_file.chmod(0o600)

    def is_running(self) -> bool:
        """Whether the server is up (pg_ctl status)."""
        return (
            self.is_initialised()
            and self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0
        )

    def start(self) -> bool:
        """Initialise if needed and start; return False if it was already running."""
        self.initialise()
        if self.is_running():
            return False
        options = (
            f"-p {self.port} -k {self.cluster_dir} -c listen_addresses=127.0.0.1 "
            # JIT doubled the time of small tile and bbox queries on this kind of machine.
            "-c jit=off -c max_connections=100 -c shared_buffers=256MB "
            "-c fsync=on -c synchronous_commit=on"
        )
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        )
        return True

    def stop(self) -> bool:
        """Stop cleanly (fast shutdown: sessions end, data is flushed); False if not running."""
        if not self.is_running():
            return False
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60")
        return True

    def status(self) -> str:
        """A one-line human description."""
        if not self.is_initialised():
            return f"embedded database: not initialised ({self.state_dir})"
        state = "running" if self.is_running() else "stopped"
        return f"embedded database: {state} on 127.0.0.1:{self.port}, data in {self.data_dir}"


PORT_BASE, PORT_SPAN = 54329, 2000  # derived ports fall in 54329-56328, clear of 5432


def cluster_port(state_dir: Path) -> int:
    """The port of the cluster in ``state_dir``, so that checkouts side by side never collide.

    A running cluster's own ``postmaster.pid`` says which port it listens on; otherwise the port
    recorded beside the cluster; otherwise a free one is chosen, starting from a number derived
    from the directory, and recorded for next time.
    """
    running = _listening_port(state_dir / "cluster" / "data" / "postmaster.pid")
    if running is not None:
        return running
    recorded = state_dir / "port"
    try:
        return int(recorded.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    start = int(hashlib.sha256(str(state_dir).encode()).hexdigest(), 16) % PORT_SPAN
    for step in range(PORT_SPAN):
        port = PORT_BASE + (start + step) % PORT_SPAN
        if _free(port):
            state_dir.mkdir(parents=True, exist_ok=True)
            recorded.write_text(f"{port}\n")
            return port
    raise EmbeddedDatabaseError(f"No free port in {PORT_BASE}-{PORT_BASE + PORT_SPAN - 1}")


def _listening_port(pid_file: Path) -> int | None:
    # postmaster.pid's fourth line is the port (PostgreSQL's documented layout).
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def valid_database_name(name: str) -> str:
    """Refuse names that would need quoting: they reach CREATE DATABASE as identifiers."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise EmbeddedDatabaseError(f"invalid database name: {name!r}")
    return name
