"""Whole-layer downloads: GeoJSON, CSV for Japanese Excel, GeoPackage."""

import csv
import io
import json

import pyogrio
import pytest
from fastapi.testclient import TestClient

from layers import load_catalog
from mapsvc.app import create_app
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.uploads import UploadRequest, upload
from mapsvc.services.versions import SourceFile
from tests.support import variants as v
from tests.support.staging import published_count

pytestmark = pytest.mark.db


@pytest.fixture
def live(test_settings, demo):
    """The app on its own sessions: downloads stream from connections of their own."""
    with TestClient(create_app(test_settings)) as client:
        yield client


def test_geojson_download_has_every_feature_and_the_licence(live, session):
    response = live.get("/api/collections/schools/download.geojson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert 'filename="schools.geojson"' in response.headers["content-disposition"]
    assert 'rel="license"' in response.headers["link"]
    body = json.loads(response.content)
    expected = published_count(session, "schools")
    assert (
        len(body["features"]) == expected and len({f["id"] for f in body["features"]}) == expected
    )
    assert body["license"]["url"].startswith("https://nlftp.mlit.go.jp/")
    assert "国土数値情報" in body["attribution"]["ja"] and body["updated"]


def test_csv_download_opens_in_japanese_excel(live):
    response = live.get("/api/collections/schools/download.csv", params={"municipality": "272027"})
    assert response.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in response.content
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 92
    assert {"id", "longitude", "latitude", "name", "school_class"} <= set(rows[0])
    sjis = live.get(
        "/api/collections/schools/download.csv",
        params={"municipality": "272027", "encoding": "cp932"},
    )
    assert sjis.headers["content-type"] == "text/csv; charset=shift_jis"
    assert "和泉高等学校" in sjis.content.decode("cp932")


def test_geopackage_download_reads_back(live, tmp_path):
    response = live.get(
        "/api/collections/shelters/download.gpkg", params={"municipality": "272027"}
    )
    path = tmp_path / "shelters.gpkg"
    path.write_bytes(response.content)
    meta, _, geometry, _ = pyogrio.raw.read(str(path))
    assert len(geometry) == 84 and "name" in list(meta["fields"])


def test_no_published_data_is_a_404(live):
    assert live.get("/api/collections/bus_routes/download.csv").status_code == 404
    assert live.get("/api/collections/schools/download.exe").status_code == 400


def test_formula_cells_are_escaped_in_csv_and_verbatim_in_geojson(scratch):
    settings, engine = scratch
    header = ["名称", "緯度", "経度", "備考"]
    rows = [
        ['=HYPERLINK("http://evil")', "34.4571", "135.3745", "+1+1"],
        ["@SUM(A1)", "34.457", "135.3744", "-2"],
        ["＝SUM(A1)", "34.4569", "135.3743", "＋1"],  # full width, as typed with the IME
        ["\u22121+1", "34.4568", "135.3742", "−"],  # U+2212: CP932 makes it "－" (0x817C)
    ]
    with make_sessionmaker(engine)() as session:
        upload(
            session,
            settings,
            layer=load_catalog()["aed"],
            municipality="272027",
            source=SourceFile(v.to_csv(header, rows), "f.csv", "auto"),
            request=UploadRequest(publish=True),
            actor="test",
        )
    with TestClient(create_app(settings)) as client:
        table = client.get("/api/collections/aed/download.csv").content.decode("utf-8-sig")
        cells = {row["name"]: row["note"] for row in csv.DictReader(io.StringIO(table))}
        assert cells == {
            '\'=HYPERLINK("http://evil")': "'+1+1",
            "'@SUM(A1)": "'-2",
            "'＝SUM(A1)": "'＋1",
            "'\u22121+1": "'−",
        }
        old_excel = client.get("/api/collections/aed/download.csv", params={"encoding": "cp932"})
        names = [
            row["name"] for row in csv.DictReader(io.StringIO(old_excel.content.decode("cp932")))
        ]
        assert "'－1+1" in names and all(n.startswith("'") for n in names), names
        features = json.loads(client.get("/api/collections/aed/download.geojson").content)[
            "features"
        ]
        assert {f["properties"]["name"] for f in features} == {
            '=HYPERLINK("http://evil")',
            "@SUM(A1)",
            "＝SUM(A1)",
            "\u22121+1",
        }


def test_downloads_are_rate_limited_per_client(test_settings, demo):
    tight = test_settings.model_copy(
        update={"api": test_settings.api.model_copy(update={"downloads_per_minute": 2})}
    )
    with TestClient(create_app(tight)) as client:
        url = "/api/collections/schools/download.csv?municipality=273830"
        assert [client.get(url).status_code for _ in range(2)] == [200, 200]
        refused = client.get(url)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["message_ja"]
        assert (
            client.get("/api/collections/schools/items?limit=1").status_code == 200
        )  # reads go on


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_streamed_download_decodes_to_the_same_file_in_each_encoding(live, encoding):
    """brotli (and gzip) streams chunk by chunk: what arrives decodes to the uncompressed file."""
    import gzip

    import brotli

    url = "/api/collections/schools/download.geojson"
    plain = live.get(url, headers={"Accept-Encoding": "identity"})
    with live.stream("GET", url, headers={"Accept-Encoding": f"{encoding}, identity;q=0.5"}) as r:
        sent = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == encoding and "content-length" not in r.headers
    decode = brotli.decompress if encoding == "br" else gzip.decompress
    assert decode(sent) == plain.content and len(sent) < len(plain.content) / 4
