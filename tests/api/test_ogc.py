"""OGC API – Features: the ogctests Core suite against a live server, and our own checks."""

import subprocess

import httpx
import pytest
import shapely
from pyproj import Transformer

from tests.support.paths import PROJECT
from tests.support.server import live_server
from tests.support.staging import published_count

pytestmark = pytest.mark.db

OGCTESTS = PROJECT / ".venv-ogctests" / "bin" / "python"


@pytest.fixture(scope="module")
def server(test_settings, demo):
    with live_server(test_settings.database.url.get_secret_value()) as base:
        yield base


def _run_ogctests(base: str, folder) -> None:
    assert OGCTESTS.exists(), "run ./scripts/setup.sh: it installs ogctests into .venv-ogctests"
    # ogctests lives in its own venv (it pins an older pytest and httpx); an empty config keeps
    # this project's pytest settings (warnings as errors) out of its run.
    (folder / "pytest.ini").write_text("[pytest]\n")
    script = (
        "import sys; from ogctests.main import run_ogctests; "
        "raise SystemExit(run_ogctests('features/core', sys.argv[1], "
        "['-q', '-rfE', '-p', 'no:cacheprovider', '-c', sys.argv[2]]))"
    )
    result = subprocess.run(
        [str(OGCTESTS), "-c", script, f"{base}/api", str(folder / "pytest.ini")],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
        check=False,
    )
    summary = next(
        (line for line in reversed(result.stdout.splitlines()) if " in " in line),
        result.stdout[-500:],
    )
    assert result.returncode == 0, result.stdout[-6000:]
    assert "failed" not in summary and "error" not in summary and "29 passed" in summary, summary


def test_the_ogctests_part_1_core_suite_passes_cold_and_warm(test_settings, demo, tmp_path):
    """Every response must be right whether it was built now or served from memory."""
    with live_server(test_settings.database.url.get_secret_value()) as base:
        _run_ogctests(base, tmp_path)  # a fresh server: every response built by the app
        items = f"{base}/api/collections/schools/items"
        httpx.get(items, params={"limit": 2})
        assert httpx.get(items, params={"limit": 2}).headers.get("x-cache") == "hit"
        _run_ogctests(base, tmp_path)  # the same server, its response cache warm


def test_landing_conformance_and_openapi_30(client):
    landing = client.get("/api").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    conformance = client.get("/api/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    document = client.get("/api/openapi.json")
    assert document.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert document.json()["openapi"] == "3.0.3"
    assert '"type": "null"' not in document.text and '"type":"null"' not in document.text


def test_collections_list_published_layers_and_the_catalog_lists_all(client, catalog):
    collections = {c["id"]: c for c in client.get("/api/collections").json()["collections"]}
    empty = {  # in the catalog, no data yet
        "flood_hazard",
        "flood_duration",
        "flood_house_collapse",
        "inland_flood_hazard",
        "landslide_hazard",
        "storm_surge_hazard",
        "tsunami_hazard",
        "bus_routes",
    }
    assert set(collections) == set(catalog) - empty | {"shelter_status"}  # the sites' status
    sites = collections["evacuation_sites"]
    assert sites["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    minx, miny, maxx, maxy = sites["extent"]["spatial"]["bbox"][0]
    assert 134.9 < minx < maxx < 135.8 and 34.2 < miny < maxy < 35.1
    layers = {c["id"]: c["numberPublished"] for c in client.get("/api/layers").json()["layers"]}
    assert set(layers) == set(catalog) and layers["bus_routes"] == 0


def test_output_crs_flips_axes_as_the_crs_defines(client):
    base = "/api/collections/shelters/items/272027-E2720200001111"
    wgs84 = client.get(base).json()["geometry"]["coordinates"]
    lat_lon = client.get(base, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/6668"})
    assert lat_lon.json()["geometry"]["coordinates"] == pytest.approx([wgs84[1], wgs84[0]])
    assert lat_lon.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/6668>"
    zone6 = client.get(base, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/6674"}).json()
    northing, easting = zone6["geometry"]["coordinates"]
    assert -170_000 < northing < -160_000 and -60_000 < easting < -50_000  # X is the northing
    assert client.get(base, params={"crs": "EPSG:99999"}).status_code == 400


def test_bbox_crs_in_plane_rectangular_metres(client):
    # Around central Kishiwada, in zone VI with the northing first (the CRS's axis order).
    box = "-170000,-58000,-166000,-53000"
    body = client.get(
        "/api/collections/shelters/items",
        params={
            "bbox": box,
            "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/6674",
            "limit": 1000,
        },
    ).json()
    assert body["numberReturned"] > 5
    to_zone6 = Transformer.from_crs(4326, 6674, always_xy=True)
    for feature in body["features"]:
        easting, northing = to_zone6.transform(*feature["geometry"]["coordinates"])
        assert -170_000 <= northing <= -166_000 and -58_000 <= easting <= -53_000
    # 大芝地区公民館 sits at X -167,908 / Y -55,809: the point DATA.md gives for Kishiwada.
    assert "272027-E2720200001111" in {f["id"] for f in body["features"]}


def test_properties_sortby_filters_and_paging(client, session):
    url = "/api/collections/schools/items"
    body = client.get(
        url,
        params={
            "municipality": "272027",
            "school_class": "16001",
            "properties": "name,school_class",
            "sortby": "-name",
            "limit": 100,
        },
    ).json()
    names = [f["properties"]["name"] for f in body["features"]]
    assert names == sorted(names, reverse=True) and len(names) > 10
    assert all(set(f["properties"]) <= {"name", "school_class"} for f in body["features"])
    assert {f["properties"]["school_class"] for f in body["features"]} == {"16001"}
    page = client.get(url, params={"limit": 1000}).json()
    assert page["numberMatched"] == published_count(session, "schools") > 1000
    next_page = client.get(
        next(link["href"] for link in page["links"] if link["rel"] == "next")
    ).json()
    assert any(link["rel"] == "prev" for link in next_page["links"])
    for bad in (
        {"sortby": "nonexistent"},
        {"properties": "password"},
        {"tsunami": "yes"},
        {"school_class": "1", "x": "1"},
    ):
        assert client.get(url, params=bad).status_code == 400


def test_feature_ids_are_stable_source_keys(client):
    body = client.get(
        "/api/collections/evacuation_sites/items", params={"municipality": "272027", "limit": 1}
    ).json()
    feature = body["features"][0]
    assert feature["id"] == "272027-" + feature["properties"]["common_id"]
    item = client.get(f"/api/collections/evacuation_sites/items/{feature['id']}")
    assert item.status_code == 200
    assert {link["rel"] for link in item.json()["links"]} >= {"self", "collection"}
    assert client.get("/api/collections/evacuation_sites/items/272027-nope").status_code == 404


def test_etag_304_cache_control_head_and_cors(client):
    url = "/api/collections/schools/items?limit=5"
    first = client.get(url)
    assert first.headers["cache-control"].startswith("public")
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = client.head(url)
    assert (
        head.status_code == 200
        and head.content == b""
        and head.headers["etag"] == first.headers["etag"]
    )
    cors = client.get(url, headers={"Origin": "https://bot.example"})
    assert cors.headers["access-control-allow-origin"] == "*"


def test_the_etag_changes_when_a_new_version_is_published(client, session, catalog):
    from importers import ImportReport, read_geojson, to_features
    from mapsvc.services.versions import SourceFile, publish, stage

    url = "/api/collections/public_facilities/items?municipality=272027&limit=5"
    before = client.get(url).headers["etag"]
    content = b'{"type":"Feature","properties":{"P05_003":"x","P05_002":"1"},"geometry":{"type":"Point","coordinates":[135.37,34.46]}}'
    report = ImportReport()
    version, _ = stage(
        session,
        layer_id="public_facilities",
        municipality_code="272027",
        source=SourceFile(content, "x.geojson", "geojson"),
        features=to_features(read_geojson(content), catalog["public_facilities"], report),
        report=report,
        actor="test",
    )
    publish(session, version.id, "test")
    after = client.get(url, headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["etag"] != before


def test_an_exhausted_pool_answers_503_with_retry_after(test_settings, demo):
    from fastapi.testclient import TestClient

    from mapsvc.app import create_app

    tight = test_settings.model_copy(
        update={
            "database": test_settings.database.model_copy(
                update={"pool_size": 1, "pool_timeout_s": 0.2}
            )
        }
    )
    app = create_app(tight)
    with TestClient(app) as client:
        engine = app.state.sessionmaker.kw["bind"]
        held = engine.connect()  # the only connection
        try:
            response = client.get("/api/collections/schools/items?limit=1")
        finally:
            held.close()
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert client.get("/api/collections/schools/items?limit=1").status_code == 200


def test_ogrinfo_reads_our_collections_through_gdals_oapif_driver(server):
    listing = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{server}/api"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    assert "evacuation_sites" in listing.stdout and "schools" in listing.stdout
    features = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "-al",
            "-q",
            f"OAPIF:{server}/api",
            "shelters",
            "-spat",
            "135.36",
            "34.45",
            "135.40",
            "34.49",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert features.returncode == 0, features.stderr
    assert "大芝地区公民館" in features.stdout
    point = shapely.Point(135.392374, 34.484901)
    assert "POINT (135.392374 34.484901)" in features.stdout or point.wkt in features.stdout
