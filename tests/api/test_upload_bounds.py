"""Uploads inside the limits are accepted however long they take to load; small files that
would cost far more than their size are refused before they do, each with a clear 4xx."""

import io
import tempfile
import time
import tracemalloc
import zipfile

import pytest
from fastapi.testclient import TestClient

from importers import ImportOptions, ImportRejected, ImportReport, Limits, read_records, to_features
from mapsvc.app import create_app
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.keys import auth_secret
from tests.support import bombs
from tests.support import variants as v
from tests.support.staging import committed_key, published_count, upload

pytestmark = pytest.mark.db

HEADER = ["ID", "名称", "緯度", "経度", "設置位置"]


def aed_rows(count: int) -> list[list[str]]:
    return [
        [
            f"A{i}",
            f"施設{i}",
            f"{34.44 + (i % 300) * 0.0001:.6f}",
            f"{135.36 + (i // 300) * 0.0001:.6f}",
            "1階",
        ]
        for i in range(count)
    ]


def serving(scratch, **imports):
    """An app on the scratch database (the given import limits) and an editor's key for it."""
    settings, engine = scratch
    database = settings.database.model_copy(update={"statement_timeout_ms": 300})
    settings = settings.model_copy(
        update={
            "database": database,
            "imports": settings.imports.model_copy(update=imports),
        }
    )
    key = committed_key(engine, "bounds", secret=auth_secret(settings))
    return TestClient(create_app(settings)), key, engine


def send(client, key, data: bytes, name: str):
    return upload(client, key, data=data, name=name, publish=True)


def test_a_file_inside_the_row_limit_is_not_cut_by_the_read_queries_timeout(scratch):
    # Reads time out after 300 ms here; this load takes seconds, and must still land.
    client, key, engine = serving(scratch)
    with client:
        response = send(client, key, v.to_csv(HEADER, aed_rows(60_000)), "aed.csv")
        assert response.status_code == 201, response.text
        with make_sessionmaker(engine)() as session:
            assert published_count(session, "aed") == 60_000
        assert client.get("/api/collections/aed/items?limit=1").status_code == 200


def test_the_row_limit_is_exact_and_a_file_past_it_is_a_422(scratch):
    client, key, engine = serving(scratch, max_rows=1000)
    with client:
        over = send(client, key, v.to_csv(HEADER, aed_rows(1001)), "aed.csv")
        assert over.status_code == 422, over.text
        assert [e["code"] for e in over.json()["report"]["errors"]] == ["too_many_rows"]
        assert send(client, key, v.to_csv(HEADER, aed_rows(1000)), "aed.csv").status_code == 201
        with make_sessionmaker(engine)() as session:
            assert published_count(session, "aed") == 1000


def read_all(data: bytes, name: str, limits: Limits = Limits(), **options) -> ImportReport:
    from layers import load_catalog

    layer = load_catalog()[options.pop("layer", "aed")]
    report = ImportReport()
    chosen = ImportOptions(limits=limits, **options)
    _, records = read_records(data, name, chosen, report=report)
    for _ in to_features(records, layer, report, options=chosen):
        pass
    return report


def refused(data: bytes, name: str, code: str, **options) -> float:
    """Seconds until ``data`` was refused with ``code``."""
    start = time.process_time()
    with pytest.raises(ImportRejected) as caught:
        read_all(data, name, **options)
    assert caught.value.issue.code == code, caught.value.issue
    assert caught.value.issue.message_ja and caught.value.issue.message_en
    return time.process_time() - start


def test_a_workbook_of_unused_shared_strings_is_refused_before_it_is_built():
    data = bombs.xlsx_with_shared_strings(1_000_000)
    assert len(data) < 3 * 2**20
    assert refused(data, "aed.xlsx", "bad_excel") < 2  # building them took 7 s
    assert read_all(bombs.xlsx_with_shared_strings(4), "aed.xlsx").accepted == 1


def test_a_geopackage_layer_that_is_a_view_is_refused_unread():
    data = bombs.gpkg_with_recursive_view(600_000)
    assert len(data) < 200_000
    assert refused(data, "aed.gpkg", "gpkg_view_layer") < 1  # reading it took 11 s, +380 MB


def test_a_geopackage_is_read_no_further_than_one_row_past_the_limit():
    data = bombs.gpkg_points(3000)
    tracemalloc.start()
    refused(data, "aed.gpkg", "too_many_rows", limits=Limits(max_rows=100))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * 2**20, peak  # 101 rows held, not 3000


def test_a_feed_with_many_stop_times_streams_in_bounded_memory():
    data = bombs.gtfs_with_stop_times(300_000)
    tracemalloc.start()
    report = read_all(data, "feed.zip", layer="bus_stops", gtfs_table="stops")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.accepted == 1
    # The file's text and one row at a time (~20 MB); a dict per row held at once, as before,
    # was +556 MB for a million rows.
    assert peak < 40 * 2**20, peak


def test_a_csv_with_a_hundred_thousand_columns_is_refused():
    header = ["名称", "緯度", "経度", *(f"c{i}" for i in range(100_000))]
    data = v.to_csv(header, [["市役所", "34.46", "135.37", *([""] * 100_000)]])
    refused(data, "aed.csv", "too_many_columns")


def test_reading_stops_with_a_clear_error_past_the_time_bound():
    data = v.to_csv(HEADER, aed_rows(5000))  # three batches: the bound is checked between them
    refused(data, "aed.csv", "too_slow", limits=Limits(max_seconds=0))


def test_gdal_errors_do_not_show_the_servers_temporary_paths():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in {
            "aed.shp": b"\0" * 200,
            "aed.shx": b"\0" * 100,
            "aed.dbf": b"\3",
        }.items():
            archive.writestr(name, body)
    with pytest.raises(ImportRejected) as caught:
        read_all(buffer.getvalue(), "aed.zip")
    message = caught.value.issue.message_en
    assert caught.value.issue.code == "unreadable_file", message
    assert tempfile.gettempdir() not in message and "mapsvc-" not in message, message
