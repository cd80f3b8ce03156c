"""Hostile and broken input: each gets a clear 4xx and a report, changes nothing, and the server
keeps answering."""

import io
import json
import math
import stat
import tracemalloc
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from importers import ImportOptions, ImportRejected, ImportReport, Limits, read_records, to_features
from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from tests.conftest import bearer
from tests.support import variants as v
from tests.support.staging import committed_key, upload

pytestmark = pytest.mark.db

URL = "/api/datasets/evacuation_sites/272027"


@pytest.fixture
def state(session):
    """Published data and history before the hostile request; checked unchanged after it."""

    def snapshot():
        return session.execute(
            text(
                "SELECT (SELECT count(*) FROM published_feature), (SELECT count(*) FROM version),"
                " (SELECT count(*) FROM feature), (SELECT max(id) FROM version)"
            )
        ).one()

    before = snapshot()
    yield
    assert snapshot() == before


def send(client, keys, data: bytes, name: str, **form):
    response = upload(client, keys["kishiwada"], URL, data, name, **form)
    assert client.get("/healthz").status_code == 200  # still answering
    return response


def rejected(response, code: str | None = None, status: int = 422):
    """An upload refused with exactly ``status``, a bilingual message and (422) the report's code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["message_ja"] and body["message_en"]
    if code is not None:
        codes = [e["code"] for e in body["report"]["errors"]]
        assert code in codes, codes
    return body


def zipped(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def shapefile_members(tmp_path) -> dict[str, bytes]:
    data = v.shapefile_zip_zone6(tmp_path)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {f"data{i.filename[-4:]}": archive.read(i) for i in archive.infolist()}


def test_zip_bomb_by_ratio(client, keys, state, tmp_path):
    members = shapefile_members(tmp_path) | {"padding.dbf.txt": b"\0" * (60 << 20)}
    rejected(send(client, keys, zipped(members), "bomb.zip"), "zip_bomb")


def test_zip_bomb_by_total_size():
    members = {f"part{i}.txt": b"x" * (2 << 20) for i in range(4)} | {"stops.txt": b"stop_id\n"}
    with pytest.raises(ImportRejected) as caught:
        list(
            read_records(
                zipped(members),
                "feed.zip",
                ImportOptions(limits=Limits(max_unpacked_bytes=4 << 20)),
                report=ImportReport(),
            )[1]
        )
    assert caught.value.issue.code == "zip_bomb"


@pytest.mark.parametrize(
    ("member", "code"),
    [
        ("../../etc/evil.shp", "zip_unsafe_path"),
        ("/abs/evil.shp", "zip_unsafe_path"),
        ("C:/evil.shp", "zip_unsafe_path"),
        ("data.vrt", "zip_refused_member"),
    ],
)
def test_zip_members_with_unsafe_paths_or_redirecting_files(
    client, keys, state, tmp_path, member, code
):
    members = shapefile_members(tmp_path) | {member: b"<OGRVRTDataSource/>"}
    rejected(send(client, keys, zipped(members), "x.zip"), code)


def test_zip_with_a_symlink(client, keys, state, tmp_path):
    rejected(
        send(client, keys, zipped(shapefile_members(tmp_path), symlink="link.prj"), "x.zip"),
        "zip_symlink",
    )


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name></Placemark></kml>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol2;</name></Placemark></kml>',
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><!DOCTYPE x><Placemark/></kml>',
    ],
)
def test_kml_with_doctype_or_entities(client, keys, state, document):
    rejected(send(client, keys, document, "evil.kml"), "xml_doctype")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf"])
def test_nan_and_infinity_coordinates(client, keys, state, value):
    data = v.to_csv(["名称", "緯度", "経度"], [["x", value, "135.37"]])
    body = rejected(send(client, keys, data, "nan.csv"))
    assert body["report"]["errors"][0]["row"] == 2


def test_nan_in_geojson(client, keys, state):
    data = (
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},'
        b'"geometry":{"type":"Point","coordinates":[NaN, 34.4]}}]}'
    )
    rejected(send(client, keys, data, "nan.geojson"))


def test_a_million_vertex_polygon(client, keys, state):
    steps = 1_000_000
    ring = [
        [
            round(135.38 + 0.02 * math.cos(2 * math.pi * i / steps), 7),
            round(34.46 + 0.02 * math.sin(2 * math.pi * i / steps), 7),
        ]
        for i in range(steps)
    ]
    ring.append(ring[0])
    data = json.dumps(
        {
            "type": "Feature",
            "properties": {"A31a_205": "1"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
    ).encode()
    response = client.post(
        "/api/datasets/flood_hazard/272027/versions",
        files={"file": ("big.geojson", data)},
        headers=bearer(keys["kishiwada"]),
    )
    rejected(response, "too_many_vertices")


def test_an_upload_over_the_size_limit_is_refused_while_streaming(
    session, test_settings, keys, state
):
    small = test_settings.model_copy(
        update={"imports": test_settings.imports.model_copy(update={"max_upload_bytes": 1 << 20})}
    )
    app = create_app(small)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as client:
        declared = client.post(
            f"{URL}/versions",
            files={"file": ("big.csv", b"x" * (2 << 20))},
            headers=bearer(keys["kishiwada"]),
        )
        assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"

        def chunks():  # no Content-Length: the limit is enforced by counting
            boundary = (
                b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            )
            yield boundary
            for _ in range(64):
                yield b"y" * 65536

        streamed = client.post(
            f"{URL}/versions",
            content=chunks(),
            headers=bearer(keys["kishiwada"]) | {"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert streamed.status_code == 413
        assert client.get("/healthz").status_code == 200


def test_binary_garbage_named_csv(client, keys, state):
    rejected(send(client, keys, bytes(range(256)) * 40, "data.csv"))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        ("名称,緯度,経度\r\n".encode(), "no_rows"),
        (b"\xef\xbb\xbf", "empty_file"),
    ],
)
def test_empty_and_header_only_files(client, keys, state, data, code):
    rejected(send(client, keys, data, "x.csv"), code)


def test_javascript_wrapped_geojson(client, keys, state):
    data = b'var shelters = {"type":"FeatureCollection","features":[]};'
    body = rejected(send(client, keys, data, "shelters.js.geojson"), "javascript_not_geojson")
    assert "var" in body["report"]["errors"][0]["message_en"]


def test_one_id_for_two_different_sites_is_a_row_error_naming_both_rows(client, keys):
    header, rows = v.gsi_csv_rows(v.gsi_features())
    rows[5][1] = rows[4][1]  # 共通ID of row 6 (Excel's numbering) given to row 7 as well
    body = rejected(send(client, keys, v.to_csv(header, rows), "dup.csv"), "duplicate_id")
    errors = [e for e in body["report"]["errors"] if e["code"] == "duplicate_id"]
    assert [(e["row"], e["value"]) for e in errors] == [(7, rows[4][1])]
    assert "row 6" in errors[0]["message_en"] and "6 行目" in errors[0]["message_ja"]


def test_a_row_repeated_exactly_is_published_once(client, keys):
    header, rows = v.gsi_csv_rows(v.gsi_features())
    repeated = [*rows[:5], list(rows[4]), *rows[5:]]  # row 6 again as row 7
    response = send(client, keys, v.to_csv(header, repeated), "twice.csv")
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["accepted"] == len(rows) and report["rows"] == len(rows) + 1
    [warning] = [w for w in report["warnings"] if w["code"] == "duplicate_row"]
    assert (warning["row"], warning["value"]) == (7, rows[4][1])
    assert "row 6" in warning["message_en"] and "6 行目" in warning["message_ja"]


def test_formula_cells_are_stored_verbatim(client, keys):
    header = ["名称", "緯度", "経度", "備考"]
    rows = [
        ['=HYPERLINK("http://evil")', "34.4571", "135.3745", "+1+1"],
        ["@SUM(A1)", "34.457", "135.3744", "-2"],
    ]
    response = upload(client, keys["kishiwada"], data=v.to_csv(header, rows), publish=True)
    assert response.status_code == 201
    items = client.get("/api/collections/aed/items", params={"municipality": "272027"}).json()[
        "features"
    ]
    names = {f["properties"]["name"]: f["properties"]["note"] for f in items}
    assert names == {'=HYPERLINK("http://evil")': "+1+1", "@SUM(A1)": "-2"}


def test_a_100000_row_csv_is_accepted_in_bounded_memory(catalog):
    header = ["ID", "名称", "緯度", "経度", "設置位置"]
    rows = [
        [
            f"A{i}",
            f"施設{i}",
            f"{34.44 + (i % 300) * 0.0001:.6f}",
            f"{135.36 + (i // 300) * 0.0001:.6f}",
            "1階",
        ]
        for i in range(100_000)
    ]
    data = v.to_csv(header, rows)
    report = ImportReport()
    options = ImportOptions()
    tracemalloc.start()
    _, records = read_records(data, "big.csv", options, report=report)
    count = sum(1 for _ in to_features(records, catalog["aed"], report, options=options))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == report.accepted == 100_000
    # Streaming holds the decoded text and the IDs seen (for duplicate detection): ~21 MB here.
    # Holding every feature at once, as a list, measured ~68 MB (Python objects alone).
    assert peak < 32 * 2**20, (peak, len(data))


def _raw_post(base: str, headers: str, body: bytes, wait_s: float) -> tuple[bytes, float]:
    """Send a request by hand (a client that stops early) and time the server's first answer."""
    import socket
    import time
    from urllib.parse import urlsplit

    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=wait_s) as raw:
        raw.sendall(headers.encode() + body)
        start = time.monotonic()
        reply = raw.recv(65536)
        seconds = time.monotonic() - start  # to the first byte of the answer
        while chunk := raw.recv(65536):  # the rest, until the server closes the connection
            reply += chunk
    return reply, seconds


UPLOAD_HEAD = (
    "POST /api/datasets/aed/272027/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\n{extra}\r\n"
)


def test_an_anonymous_upload_is_refused_before_its_body_is_read(scratch):
    from tests.support.server import live_server

    settings, _ = scratch
    with live_server(settings.database.url.get_secret_value()) as base:
        for extra in ("", "Authorization: Bearer msk_0000_forged\r\n"):
            head = UPLOAD_HEAD.format(length=40_000_000, extra=extra)  # 40 MB announced
            reply, seconds = _raw_post(base, head, b"x" * 1000, wait_s=10)  # 1 kB sent
            assert reply.startswith(b"HTTP/1.1 401"), reply[:200]
            assert seconds < 5


def test_an_upload_that_stops_arriving_is_refused_with_408(scratch):
    from tests.support.server import live_server

    settings, engine = scratch
    key = committed_key(engine, "slow")
    url = settings.database.url.get_secret_value()
    with live_server(url, MAPSVC_IMPORTS__BODY_TIMEOUT_S="2") as base:
        head = UPLOAD_HEAD.format(length=1000, extra=f"Authorization: Bearer {key}\r\n")
        reply, seconds = _raw_post(base, head, b"--b\r\n", wait_s=10)  # then nothing more
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b"request_timeout" in reply and seconds < 6


def test_an_upload_that_trickles_in_is_refused_with_408(scratch):
    """A byte every half second never stalls for the timeout, but is far below any real uplink."""
    import socket
    import time
    from urllib.parse import urlsplit

    from tests.support.server import live_server

    settings, engine = scratch
    key = committed_key(engine, "trickle")
    with live_server(
        settings.database.url.get_secret_value(), MAPSVC_IMPORTS__BODY_TIMEOUT_S="2"
    ) as base:
        address = urlsplit(base)
        head = UPLOAD_HEAD.format(length=100_000, extra=f"Authorization: Bearer {key}\r\n")
        with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
            part = 'Content-Disposition: form-data; name="file"; filename="a.csv"'
            raw.sendall(head.encode() + f"--b\r\n{part}\r\n\r\n".encode())  # then file bytes
            start, reply = time.monotonic(), b""
            while not reply and time.monotonic() - start < 8:
                try:
                    raw.sendall(b"x")
                except OSError:
                    break
                raw.settimeout(0.5)
                try:
                    reply = raw.recv(65536)
                except TimeoutError:
                    continue
            seconds = time.monotonic() - start
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert seconds < 6
