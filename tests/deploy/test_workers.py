"""`mapsvc serve --workers N` as deployed: publishes reach every worker, workers are replaced."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from layers import load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.db.publication_watch import APPLICATION_NAME
from mapsvc.services import uploads
from mapsvc.services.versions import SourceFile
from tests.support.portal import aed_csv
from tests.support.server import mapsvc_serve, worker_pids
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db

ITEMS = "/api/collections/aed/items?limit=100"
KISHIWADA = "272027"


def json_log(path: Path) -> list[dict]:
    """The JSON lines the server has written to ``path`` so far (a line being written excluded)."""
    *complete, _ = path.read_text().split("\n")
    return [json.loads(line) for line in complete if line.startswith("{")]


def publish_aeds(settings, engine, count: int) -> None:
    """Publish ``count`` AEDs for Kishiwada; returns when the use case has returned."""
    rows = [(f"AED{i}", f"{34.46 + i * 1e-4:.4f}", "135.3716") for i in range(count)]
    with make_sessionmaker(engine)() as session:
        uploads.upload(
            session,
            settings,
            layer=load_catalog()["aed"],
            municipality=KISHIWADA,
            source=SourceFile(aed_csv(rows), f"aed{count}.csv", "auto"),
            request=uploads.UploadRequest(publish=True),
            actor="test",
        )


def fresh_connection_get(base: str, path: str) -> httpx.Response:
    """One request on its own connection: the kernel hands it to whichever worker accepts."""
    with httpx.Client(headers={"Connection": "close"}) as http:
        return http.get(f"{base}{path}")


def numbers_matched(base: str, tries: int = 30) -> set[int]:
    return {fresh_connection_get(base, ITEMS).json()["numberMatched"] for _ in range(tries)}


def test_a_publish_is_seen_by_every_worker_before_it_returns(scratch, tmp_path: Path):
    settings, engine = scratch
    publish_aeds(settings, engine, 1)
    url = settings.database.url.get_secret_value()
    with mapsvc_serve(url, workers=2, log=tmp_path / "serve.log") as (base, server):
        assert len(worker_pids(server)) == 2
        # Warm every worker's response cache with the one-AED answer.
        for _ in range(30):
            fresh_connection_get(base, ITEMS)
        assert fresh_connection_get(base, ITEMS).headers.get("x-cache") == "hit"
        with engine.connect() as conn:
            watches = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name LIKE :name"
                ),
                {"name": f"{APPLICATION_NAME}/%"},
            )
        assert watches == 2  # one listening watch per worker, each showing what it has seen

        for count in (2, 3):  # right after each publish returns, no worker answers the old one
            publish_aeds(settings, engine, count)
            assert numbers_matched(base) == {count}

        # A worker that has not heard yet (stopped here) holds the publish until it has.
        deaf = min(worker_pids(server))
        os.kill(deaf, signal.SIGSTOP)
        try:
            publishing = threading.Thread(target=publish_aeds, args=(settings, engine, 4))
            publishing.start()
            publishing.join(0.6)
            assert publishing.is_alive(), "the publish returned before every worker had heard"
        finally:
            os.kill(deaf, signal.SIGCONT)
        publishing.join(5)
        assert not publishing.is_alive()
        assert numbers_matched(base) == {4}

    access = [
        entry for entry in json_log(tmp_path / "serve.log") if entry["logger"] == "mapsvc.access"
    ]
    assert access and {e["route"] for e in access} >= {"/api/collections/{layer}/items", "cached"}


def test_the_request_id_reaches_the_json_access_log(scratch, tmp_path: Path):
    settings, _ = scratch
    url = settings.database.url.get_secret_value()
    log = tmp_path / "serve.log"
    with mapsvc_serve(url, workers=1, log=log) as (base, _):
        answer = httpx.get(f"{base}/api/layers", headers={"X-Request-ID": "proxy-req-42"})
        assert answer.headers["x-request-id"] == "proxy-req-42"
        forged = httpx.get(f"{base}/api/layers", headers={"X-Request-ID": 'x", "fake": "1'})
        assert forged.headers["x-request-id"] != 'x", "fake": "1'  # replaced, not logged
        wait_for(
            lambda: [e for e in json_log(log) if e.get("path") == "/api/layers"],
            until=lambda logged: len(logged) == 2,
            what="both requests in the access log",
        )
    entries = json_log(log)
    ours = [e for e in entries if e.get("request_id") == "proxy-req-42"]
    assert len(ours) == 1
    assert ours[0] | {"duration_s": 0} == ours[0] | {
        "logger": "mapsvc.access",
        "method": "GET",
        "path": "/api/layers",
        "status": 200,
        "route": "/api/layers",
        "cache": "miss",
        "duration_s": 0,
        "bytes": ours[0]["bytes"],
    }
    assert ours[0]["bytes"] > 100 and ours[0]["duration_s"] > 0
    assert not any("fake" in e for e in entries)


def test_a_killed_worker_is_replaced_and_the_others_keep_answering(scratch, tmp_path: Path):
    settings, engine = scratch
    publish_aeds(settings, engine, 1)
    url = settings.database.url.get_secret_value()
    with mapsvc_serve(url, workers=2, log=tmp_path / "serve.log") as (base, server):
        before = worker_pids(server)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        statuses = [fresh_connection_get(base, ITEMS).status_code for _ in range(20)]
        assert statuses == [200] * 20
        now = wait_for(
            lambda: worker_pids(server),
            until=lambda pids: len(pids) == 2 and victim not in pids,
            what="a replacement worker",
        )
        assert now & before == before - {victim}
        assert numbers_matched(base, 10) == {1}
