"""``mapsvc sources …`` and ``mapsvc harvest`` as an operator runs them, on a scratch database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from tests.services.test_harvest_runs import aed_csv
from tests.support.cli import run_mapsvc
from tests.support.file_hosts import file_host
from tests.support.server import free_port
from tests.support.staging import KISHIWADA

pytestmark = pytest.mark.db
DATASET = ("--layer", "aed", "--municipality", KISHIWADA)


@pytest.fixture(autouse=True)
def loopback_allowed(monkeypatch):
    monkeypatch.setenv("MAPSVC_HARVEST__ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("MAPSVC_HARVEST__ALLOW_HTTP_HOSTS", "127.0.0.1")
    monkeypatch.setenv("MAPSVC_HARVEST__POLL_INTERVAL_S", "0.2")


def test_add_list_run_pause_and_resume_a_source(scratch):
    settings, _ = scratch
    with file_host() as host:
        host.file("/aed.csv", aed_csv(4, encoding="cp932"))
        url = f"{host.base}/aed.csv"
        added = run_mapsvc(
            "sources",
            "add",
            *DATASET,
            "--url",
            url,
            "--schedule",
            "0 6 * * 1",
            "--encoding",
            "cp932",
            settings=settings,
        )
        assert added.returncode == 0, added.stderr
        listed = run_mapsvc("sources", "list", settings=settings)
        assert f"aed\t{KISHIWADA}\tfile\t0 6 * * 1\tok" in listed.stdout
        ran = run_mapsvc("sources", "run", *DATASET, settings=settings)
        assert ran.returncode == 0 and ran.stdout.startswith("published\tHTTP 200"), ran.stdout
        assert run_mapsvc("sources", "pause", *DATASET, settings=settings).returncode == 0
        refused = run_mapsvc("sources", "run", *DATASET, settings=settings)
        assert refused.returncode == 1 and "paused" in refused.stderr
        assert run_mapsvc("sources", "resume", *DATASET, settings=settings).returncode == 0
        again = run_mapsvc("sources", "run", *DATASET, settings=settings)
        assert again.stdout.startswith("unchanged\tHTTP 304"), again.stdout


def test_a_bad_source_is_refused_in_both_languages(scratch):
    settings, _ = scratch
    wrong = run_mapsvc(
        "sources",
        "add",
        *DATASET,
        "--url",
        "https://example.jp/a.csv",
        "--schedule",
        "often",
        settings=settings,
    )
    assert wrong.returncode == 1
    assert "取得の予定" in wrong.stderr and "Cannot read the schedule" in wrong.stderr


@pytest.mark.parametrize(
    "command",
    [["harvest"], ["serve", "--workers", "1", "--port", str(free_port())]],
    ids=["harvest-service", "embedded-in-serve"],
)
def test_the_scheduler_runs_due_sources_until_terminated(scratch, command):
    settings, engine = scratch
    with file_host() as host:
        host.file("/aed.csv", aed_csv(3))
        added = run_mapsvc(
            "sources", "add", *DATASET, "--url", f"{host.base}/aed.csv", settings=settings
        )
        assert added.returncode == 0
        env = dict(
            os.environ,
            MAPSVC_DATABASE__URL=settings.database.url.get_secret_value(),
            MAPSVC_AUTH__SECRET="cli-test-secret",
        )
        service = subprocess.Popen([sys.executable, "-m", "mapsvc", *command], env=env)
        try:
            outcomes: list[str] = []
            for _ in range(300):  # waits for the first run; nothing timed is asserted
                with engine.connect() as conn:
                    outcomes = list(
                        conn.execute(text("SELECT outcome FROM harvest_fetch")).scalars()
                    )
                if outcomes:
                    break
                time.sleep(0.1)
        finally:
            service.send_signal(signal.SIGTERM)
            code = service.wait(timeout=30)
        assert outcomes == ["published"]
        # serve may be stopped before uvicorn has taken over the signals: only the service's own
        # exit is asserted.
        assert code == 0 or command[0] == "serve"
