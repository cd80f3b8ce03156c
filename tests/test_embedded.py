"""The embedded default database: its own cluster, port, user and password."""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from mapsvc.embedded import EmbeddedCluster, EmbeddedDatabaseError, cluster_port, find_pg_bin
from mapsvc.settings import DatabaseSettings, Settings

pytestmark = pytest.mark.db

EXTERNAL = Settings().database.url is not None
needs_embedded = pytest.mark.skipif(
    EXTERNAL, reason="MAPSVC_DATABASE__URL points at an external PostGIS"
)


@needs_embedded
def test_the_cluster_runs_on_its_own_port_as_an_unprivileged_user(session):
    cluster = EmbeddedCluster.from_settings(Settings().database)
    assert cluster.is_running()
    assert cluster.port != 5432
    directory = session.execute(text("SHOW data_directory")).scalar_one()
    assert directory == str(cluster.data_dir)
    owner = os.stat(cluster.data_dir).st_uid
    assert owner != 0  # initdb refuses root, and a root-owned cluster would be a risk
    if os.geteuid() == 0:
        assert oct(os.stat(cluster.state_dir / "password").st_mode)[-3:] == "600"


@needs_embedded
def test_the_cluster_needs_its_password_and_listens_on_loopback_only(test_settings):
    url = make_url(test_settings.database.url.get_secret_value())
    wrong = create_engine(url.set(password="not-the-password"))
    with pytest.raises(OperationalError, match="password authentication failed"):
        wrong.connect()
    wrong.dispose()
    listen = create_engine(url)
    with listen.connect() as conn:
        assert conn.execute(text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
        assert conn.execute(text("SHOW jit")).scalar_one() == "off"
    listen.dispose()


def test_postgis_is_installed_for_the_server_used():
    bin_dir = find_pg_bin()
    version = subprocess.run(
        [bin_dir / "postgres", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert "PostgreSQL" in version


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A directory the server's OS user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="mapsvc-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to another user")
def test_a_directory_the_server_user_cannot_reach_is_a_clear_error(tmp_path):
    cluster = EmbeddedCluster(tmp_path / "state", _free_port(), "postgres")
    with pytest.raises(EmbeddedDatabaseError, match="cannot reach"):
        cluster.start()


def test_a_cluster_in_a_fresh_directory_starts_stops_and_reports(reachable_dir):
    cluster = EmbeddedCluster(reachable_dir / "state", _free_port(), "postgres")
    assert "not initialised" in cluster.status()
    with pytest.raises(EmbeddedDatabaseError, match="not initialised"):
        cluster.url("postgres")
    assert cluster.start() is True
    try:
        assert cluster.start() is False  # already running
        assert "running" in cluster.status()
        engine = create_engine(cluster.url("postgres"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        engine.dispose()
    finally:
        assert cluster.stop() is True
    assert "stopped" in cluster.status()
    assert cluster.stop() is False


def test_each_cluster_directory_gets_its_own_port_recorded_beside_it(tmp_path):
    first, second = tmp_path / "checkout-a", tmp_path / "checkout-b"
    port_a, port_b = cluster_port(first), cluster_port(second)
    assert port_a != port_b and min(port_a, port_b) >= 54329
    assert (first / "port").read_text().strip() == str(port_a)
    assert cluster_port(first) == port_a  # recorded: the same next time
    third = tmp_path / "checkout-c"
    derived = cluster_port(third)
    (third / "port").unlink()
    with socket.socket() as busy:  # someone else took it meanwhile: the next free one is chosen
        busy.bind(("127.0.0.1", derived))
        busy.listen()
        assert cluster_port(third) != derived


@needs_embedded
def test_two_checkouts_clusters_run_side_by_side(session, reachable_dir):
    """A second checkout's cluster (its own directory, no port set) starts beside the running one."""
    running = EmbeddedCluster.from_settings(Settings().database)
    assert running.is_running()
    settings = DatabaseSettings(embedded_dir=reachable_dir / "state")
    other = EmbeddedCluster.from_settings(settings)
    assert other.port != running.port
    assert other.start() is True
    try:
        assert running.is_running()  # the first one is untouched
        engine = create_engine(other.url("postgres"))
        with engine.connect() as conn:
            assert conn.execute(text("SHOW port")).scalar_one() == str(other.port)
        engine.dispose()
        assert EmbeddedCluster.from_settings(settings).port == other.port  # from postmaster.pid
    finally:
        other.stop()
    assert session.execute(text("SELECT 1")).scalar_one() == 1


@needs_embedded
def test_the_bench_leaves_a_running_cluster_running(session):
    from bench.common import scratch_database

    cluster = EmbeddedCluster.from_settings(Settings().database)
    assert cluster.is_running()
    with scratch_database() as (_, engine), engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert cluster.is_running()  # it was running before: the bench must not stop it
    assert session.execute(text("SELECT 1")).scalar_one() == 1
