"""The JSON API of harvest sources, key-authorised like uploads, and freshness on /api/coverage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from mapsvc.settings import HarvestSettings
from tests.services.test_harvest_runs import aed_csv
from tests.support.file_hosts import FileHost, Reply, file_host
from tests.support.staging import KISHIWADA

pytestmark = pytest.mark.db
SOURCE = f"/api/datasets/aed/{KISHIWADA}/source"


@pytest.fixture
def client(session, test_settings) -> Iterator[TestClient]:
    """An app whose harvest may reach the loopback file host (as an admin would allow an intranet)."""
    settings = test_settings.model_copy(
        update={
            "harvest": HarvestSettings(allow_networks="127.0.0.0/8", allow_http_hosts="127.0.0.1")
        }
    )
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


@pytest.fixture
def host() -> Iterator[FileHost]:
    with file_host() as running:
        running.file("/aed.csv", aed_csv(6))
        yield running


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_municipality_sets_fetches_and_pauses_its_source(client, keys, host):
    body = {"kind": "file", "url": f"{host.base}/aed.csv", "schedule": "weekly"}
    saved = client.put(SOURCE, json=body, headers=bearer(keys["kishiwada"]))
    assert saved.status_code == 200, saved.text
    assert saved.json()["schedule"] == "weekly" and saved.json()["history"] == []

    ran = client.post(f"{SOURCE}/run", headers=bearer(keys["kishiwada"]))
    assert ran.status_code == 200 and ran.json()["outcome"] == "published"
    shown = client.get(SOURCE, headers=bearer(keys["kishiwada"])).json()
    assert shown["history"][0]["version_id"] == ran.json()["version_id"]

    paused = client.post(f"{SOURCE}/pause", headers=bearer(keys["kishiwada"]))
    assert paused.json()["paused"] is True
    refused = client.post(f"{SOURCE}/run", headers=bearer(keys["kishiwada"]))
    assert refused.status_code == 409 and "paused" in refused.json()["detail"]
    resumed = client.post(f"{SOURCE}/resume", headers=bearer(keys["kishiwada"]))
    assert resumed.json()["paused"] is False


def test_another_municipality_or_no_key_cannot_touch_the_source(client, keys, host):
    body = {"kind": "file", "url": f"{host.base}/aed.csv"}
    assert client.put(SOURCE, json=body, headers=bearer(keys["sakai"])).status_code == 403
    assert client.put(SOURCE, json=body).status_code == 401
    assert client.put(SOURCE, json=body, headers=bearer(keys["admin"])).status_code == 200
    assert client.get(SOURCE, headers=bearer(keys["sakai"])).status_code == 403


def test_a_source_is_refused_with_the_same_words_as_an_upload(client, keys, host):
    bad_crs = {"kind": "file", "url": f"{host.base}/aed.csv", "options": {"crs": "nonsense"}}
    answer = client.put(SOURCE, json=bad_crs, headers=bearer(keys["kishiwada"]))
    assert answer.status_code == 400 and "座標系" in answer.json()["message_ja"]
    internal = {"kind": "file", "url": "http://10.0.0.5/aed.csv"}
    answer = client.put(SOURCE, json=internal, headers=bearer(keys["kishiwada"]))
    assert answer.status_code == 400 and "https only" in answer.json()["detail"]
    assert client.get(SOURCE, headers=bearer(keys["kishiwada"])).status_code == 404


def test_a_dry_run_reports_without_saving(client, keys, host):
    body = {"kind": "file", "url": f"{host.base}/aed.csv"}
    tested = client.post(f"{SOURCE}/test", json=body, headers=bearer(keys["kishiwada"]))
    assert tested.status_code == 200, tested.text
    assert tested.json()["report"]["accepted"] == 6
    assert client.get(SOURCE, headers=bearer(keys["kishiwada"])).status_code == 404


def test_coverage_shows_where_data_comes_from_and_the_last_problem(client, keys, host):
    client.put(
        SOURCE,
        json={"kind": "file", "url": f"{host.base}/aed.csv"},
        headers=bearer(keys["kishiwada"]),
    )
    client.post(f"{SOURCE}/run", headers=bearer(keys["kishiwada"]))
    first = client.get("/api/coverage")
    kishiwada = next(m for m in first.json()["municipalities"] if m["code"] == KISHIWADA)
    assert kishiwada["layers"]["aed"]["from"] == "source"
    assert kishiwada["layers"]["shelters"]["from"] == "upload"
    fresh = kishiwada["sources"]["aed"]
    assert fresh["url"] == f"{host.base}/aed.csv"
    assert fresh["last_checked_at"] and fresh["last_changed_at"] and fresh["problem"] is None

    host.plain("/aed.csv", Reply(500, b"down"))
    client.post(f"{SOURCE}/run", headers=bearer(keys["kishiwada"]))
    again = client.get("/api/coverage", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200  # the freshness changed: the old ETag no longer matches
    kishiwada = next(m for m in again.json()["municipalities"] if m["code"] == KISHIWADA)
    problem = kishiwada["sources"]["aed"]["problem"]
    assert problem == {
        "ja": "公開元のサーバーがエラー（HTTP 500）を返しました",
        "en": "The publishing server answered HTTP 500",
    }
    assert kishiwada["layers"]["aed"]["count"] == 6  # the last good data stays published
