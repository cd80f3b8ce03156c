"""Crash safety: kill -9 the importer, or PostgreSQL itself, in the middle of a load."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from layers import load_catalog
from mapsvc.db.engine import make_engine, make_sessionmaker
from mapsvc.services.uploads import UploadRequest, upload
from mapsvc.services.versions import SourceFile
from tests.support import variants as v
from tests.support.databases import restart_after_crash, seeded_database, throwaway_cluster
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db

LAYER, CODE = "aed", "272027"


def big_csv(path: Path, rows: int = 300_000) -> Path:
    lines = ["名称,緯度,経度,設置位置"]
    lines += [
        f"施設{i},{34.440 + (i % 500) * 0.00004:.6f},{135.380 + (i // 500) * 0.00003:.6f},1階"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def state(engine: Engine) -> tuple:
    """The dataset's current version and its feature count, versions, and orphan features."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT d.current_version_id,"
                " (SELECT count(*) FROM published_feature p WHERE p.dataset_id = d.id),"
                " (SELECT count(*) FROM version WHERE dataset_id = d.id),"
                " (SELECT count(*) FROM feature f WHERE NOT EXISTS (SELECT 1 FROM version v WHERE v.id = f.version_id))"
                " FROM dataset d WHERE layer_id = :layer AND municipality_code = :code"
            ),
            {"layer": LAYER, "code": CODE},
        ).one()


def start_import(url: str, csv: Path) -> subprocess.Popen:
    env = dict(os.environ, MAPSVC_DATABASE__URL=url, MAPSVC_AUTH__SECRET="x")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mapsvc",
            "import",
            str(csv),
            "--layer",
            LAYER,
            "--municipality",
            CODE,
            "--publish",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_copy(engine: Engine, process: subprocess.Popen) -> None:
    """Until the import's COPY has loaded rows (and has more to load): the moment to kill."""

    def loading() -> bool:
        assert process.poll() is None, "the import ended before it loaded anything"
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_progress_copy p "
                        "JOIN pg_stat_activity a USING (pid) "
                        "WHERE a.query LIKE 'COPY feature%' AND p.tuples_processed > 0"
                    )
                ).scalar_one()
            )

    wait_for(loading, timeout=60, what="the import to load rows")


def publish_first_version(engine: Engine, settings) -> int:
    with make_sessionmaker(engine)() as session:
        result = upload(
            session,
            settings,
            layer=load_catalog()[LAYER],
            municipality=CODE,
            source=SourceFile(v.aed_standard_csv(), "aed.csv", "auto"),
            request=UploadRequest(publish=True),
            actor="test",
        )
        return result.version.id


def test_kill_9_of_the_importer_leaves_the_published_version_intact(scratch, tmp_path):
    test_settings, engine = scratch
    url = test_settings.database.url.get_secret_value()
    published = publish_first_version(engine, test_settings)
    before = state(engine)
    assert before[0] == published and before[1] == 20
    process = start_import(url, big_csv(tmp_path / "big.csv"))
    wait_for_copy(engine, process)
    process.send_signal(signal.SIGKILL)
    process.wait()

    def copy_ended() -> bool:  # the server ends the dead client's transaction
        with engine.connect() as conn:
            return not conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY feature%'"
                    " AND state <> 'idle'"
                )
            ).scalar_one()

    wait_for(copy_ended, timeout=30, what="the server to end the dead importer's COPY")
    assert state(engine) == before
    with engine.connect() as conn:  # the next upload works as usual
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_kill_9_of_postgresql_mid_load_recovers_to_the_published_version(test_settings, tmp_path):
    with throwaway_cluster(test_settings) as cluster:
        settings, engine, _ = seeded_database(test_settings, cluster.url("postgres"))
        url = settings.database.url.get_secret_value()
        published = publish_first_version(engine, settings)
        before = state(engine)
        process = start_import(url, big_csv(tmp_path / "big.csv"))
        wait_for_copy(engine, process)
        engine.dispose()
        postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        assert process.wait(timeout=60) != 0  # the import fails: the server vanished
        assert restart_after_crash(cluster) is True
        engine = make_engine(url, settings.database)
        after = state(engine)
        assert after == before and after[0] == published
        engine.dispose()
