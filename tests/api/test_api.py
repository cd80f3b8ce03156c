"""The first read path: collections and items over HTTP."""

import pytest
import shapely
from sqlalchemy import text

from tests.support.staging import municipality_count, published_count

pytestmark = pytest.mark.db


def test_layers_list_every_catalog_layer_with_published_counts(client, catalog, session):
    response = client.get("/api/layers")
    assert response.status_code == 200
    collections = {c["id"]: c for c in response.json()["layers"]}
    assert set(collections) == set(catalog)
    assert collections["evacuation_sites"]["numberPublished"] == published_count(
        session, "evacuation_sites"
    )
    assert collections["bus_routes"]["numberPublished"] == 0  # in the catalog, no datasets yet
    layer = collections["shelters"]["layer"]
    assert layer["title"] == {"ja": "指定避難所", "en": "Designated shelters"}
    assert layer["category_title"]["en"] == "Disaster prevention"
    assert "国土地理院" in layer["source"]["attribution"]["ja"]
    cross_origin = client.get("/api/collections", headers={"Origin": "https://example.org"})
    assert cross_origin.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in cross_origin.headers


def test_items_are_rfc7946_geojson_and_filter_by_bbox(client, session):
    bbox = (135.45, 34.60, 135.55, 34.70)
    response = client.get(
        "/api/collections/evacuation_sites/items",
        params={"bbox": ",".join(map(str, bbox)), "limit": 10000},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert (
        0
        < body["numberReturned"]
        == len(body["features"])
        < published_count(session, "evacuation_sites")
    )
    box = shapely.box(*bbox)
    for feature in body["features"]:
        point = shapely.geometry.shape(feature["geometry"])
        assert box.covers(point)
        assert -180 <= point.x <= 180 and point.y < 90  # lon, lat order
    assert not any(link["rel"] == "next" for link in body["links"])


def test_items_page_with_limit_and_next_links(client):
    first = client.get("/api/collections/schools/items", params={"limit": 7}).json()
    assert first["numberReturned"] == 7
    next_href = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = client.get(next_href).json()
    assert second["numberReturned"] == 7
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}


def test_items_filter_by_municipality_and_ward(client):
    kishiwada = client.get(
        "/api/collections/shelters/items", params={"municipality": "27202", "limit": 10000}
    ).json()
    assert kishiwada["numberReturned"] == 84  # the GSI file of 272027 holds 84 shelters
    osaka = client.get(
        "/api/collections/shelters/items", params={"municipality": "271004", "limit": 10000}
    ).json()
    kita = client.get(
        "/api/collections/shelters/items", params={"municipality": "271276", "limit": 10000}
    ).json()
    assert 0 < kita["numberReturned"] < osaka["numberReturned"]
    # Clipped by the (simplified) ward boundary: nearly all addresses name the ward.
    in_kita = [f for f in kita["features"] if "北区" in f["properties"]["address"]]
    assert len(in_kita) >= 0.9 * kita["numberReturned"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"bbox": "1,2,3"}, 400),
        ({"bbox": "a,b,c,d"}, 400),
        ({"bbox": "135,35,134,34"}, 400),
        ({"limit": "0"}, 400),
        ({"limit": "1000000"}, 400),
        ({"limit": "ten"}, 400),
        ({"municipality": "999999"}, 400),
        ({"municipality": "131016"}, 404),
    ],
)
def test_bad_parameters_get_a_clear_bilingual_400(client, params, status):
    response = client.get("/api/collections/schools/items", params=params)
    assert response.status_code == status
    body = response.json()
    assert body["code"] and body["message_ja"] and body["message_en"]


def test_unknown_layer_is_404(client):
    response = client.get("/api/collections/no_such_layer/items")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_viewer_page_and_vendored_leaflet_are_served_with_a_csp(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<script type="module" src="/js/main.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert (
        "img-src 'self' data: https://cyberjapandata.gsi.go.jp https://disaportaldata.gsi.go.jp;"
        in page.headers["content-security-policy"]
    )  # the tile servers named in web/config.json (base maps, hazard overlays), and no others
    scripts = client.get("/vendor/viewer.js")  # Leaflet, then its VectorGrid plugin, in one file
    assert scripts.status_code == 200 and scripts.headers["content-type"].startswith(
        "text/javascript"
    )
    assert "1.9.4" in scripts.text[:300] and scripts.text.index("VectorGrid") > 100_000
    assert (
        client.get(
            "/vendor/viewer.js", headers={"If-None-Match": scripts.headers["etag"]}
        ).status_code
        == 304
    )
    styles = client.get("/vendor/leaflet/viewer.css").text
    assert styles.index(".leaflet-pane") < styles.index(".panel")  # ours last, so ours win
    assert client.get("/vendor/leaflet/images/layers.png").status_code == 200


def test_health_and_municipalities(client, session):
    assert client.get("/healthz").json() == {"status": "ok"}
    municipalities = client.get("/api/municipalities").json()["municipalities"]
    assert len(municipalities) == municipality_count(session) > 40
    assert {
        "code": "273830",
        "name_ja": "千早赤阪村",
        "name_en": "Chihayaakasaka-mura",
        "kind": "village",
        "parent_code": "270008",
    } in municipalities


def test_each_feature_carries_its_own_municipality_and_publish_date(client, session):
    # The demo publishes each municipality's file in its own transaction: distinct dates.
    dates = dict(
        session.execute(
            text(
                "SELECT d.municipality_code, v.published_at FROM dataset d "
                "JOIN version v ON v.id = d.current_version_id "
                "WHERE d.layer_id = 'evacuation_sites'"
            )
        )
        .tuples()
        .all()
    )
    layer_updated = client.get("/api/collections/evacuation_sites").json()["updated"]
    features = []
    for code in ("271004", "272027"):  # Osaka City, Kishiwada
        params = {"municipality": code, "limit": 20}
        features += client.get("/api/collections/evacuation_sites/items", params=params).json()[
            "features"
        ]
    for feature in features:
        code = feature["id"].split("-")[0]
        assert feature["municipality"]["code"] == code
        assert feature["updated"] == dates[code].isoformat(timespec="seconds")
    assert {f["municipality"]["name"]["ja"] for f in features} == {"大阪市", "岸和田市"}
    assert any(f["updated"] != layer_updated for f in features)  # its own date, not the layer's
    one = features[-1]
    item = client.get(f"/api/collections/evacuation_sites/items/{one['id']}").json()
    assert (item["municipality"], item["updated"]) == (one["municipality"], one["updated"])
    near = client.get(
        "/api/nearest", params={"lon": 135.3716, "lat": 34.4603, "layer": "evacuation_sites"}
    ).json()
    assert near["features"][0]["municipality"]["code"] == "272027"


def test_a_huge_box_in_a_projected_crs_is_clipped_not_a_denial_of_service(client):
    """Clipped to the CRS's area of use before any geometry work (it ran to the 15 s timeout)."""
    mercator = "http://www.opengis.net/def/crs/EPSG/0/3857"
    url = "/api/collections/evacuation_sites/items"
    huge = client.get(
        url, params={"bbox": "-9.9e7,-9.9e7,9.9e7,9.9e7", "bbox-crs": mercator, "limit": 50}
    )
    assert huge.status_code == 200, huge.text
    world = client.get(url, params={"bbox": "-180,-90,180,90", "limit": 50}).json()
    assert [f["id"] for f in huge.json()["features"]] == [f["id"] for f in world["features"]]
    zone_vi = "http://www.opengis.net/def/crs/EPSG/0/6674"  # X (northing) first
    outside = client.get(url, params={"bbox": "1e7,1e7,2e7,2e7", "bbox-crs": zone_vi})
    assert outside.status_code == 200 and outside.json()["features"] == []


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/tests/shell.test.js", "/js/nope.js"])
def test_what_does_not_exist_is_a_404_in_the_error_shape(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "detail": "Not found",
        "message_ja": "見つかりません",
        "message_en": "Not found",
    }


def test_a_method_a_path_does_not_take_is_a_405_naming_the_allowed_ones(client):
    response = client.delete("/api/collections")
    assert response.status_code == 405 and "GET" in response.headers["allow"]
    assert response.json()["code"] == "method_not_allowed" and "GET" in response.json()["detail"]


def test_coverage_lists_every_municipality_and_what_it_publishes(client, session):
    matrix = client.get("/api/coverage").json()
    codes = [m["code"] for m in matrix["municipalities"]]
    assert len(codes) == 44 and "270008" in codes and "271276" not in codes  # no wards
    osaka = next(m for m in matrix["municipalities"] if m["code"] == "271004")
    assert osaka["layers"]["parks"]["count"] == published_count(session, "parks")
    kishiwada = next(m for m in matrix["municipalities"] if m["code"] == "272027")
    assert "parks" not in kishiwada["layers"] and kishiwada["layers"]["shelters"]["count"] > 0
    table = client.get("/api/coverage.csv")
    assert table.headers["content-type"].startswith("text/csv")
    lines = table.content.decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    osaka_row = next(line for line in lines if line.startswith("271004,")).split(",")
    assert osaka_row[header.index("公園 (parks)")] == str(osaka["layers"]["parks"]["count"])


def test_each_layer_says_how_much_of_the_prefecture_it_covers(client):
    layers = {c["id"]: c for c in client.get("/api/layers").json()["layers"]}
    assert layers["parks"]["coverage"] == {
        "municipalities": 1,
        "of": 43,
        "prefectureWide": False,
        "only": {"ja": "大阪市", "en": "Osaka-shi"},
        "names": [{"ja": "大阪市", "en": "Osaka-shi"}],
    }
    assert (
        layers["aed"]["coverage"]["municipalities"] == 3
        and layers["aed"]["coverage"]["only"] is None
    )
    # Which ones: the layer list names a few publishers (a hazard map's gap is then visible).
    assert [m["ja"] for m in layers["aed"]["coverage"]["names"]] == ["大阪市", "貝塚市", "富田林市"]
    assert layers["shelters"]["coverage"]["municipalities"] == 43
    assert layers["parks"]["publishers"] == ["271004"]


def test_old_data_says_its_own_date_on_every_feature(client):
    hospital = client.get("/api/collections/medical_institutions/items", params={"limit": 1})
    assert hospital.json()["features"][0]["dataDate"] == "2015"  # the city's 2015 list
    aed = client.get("/api/collections/aed/items", params={"municipality": "271004", "limit": 1})
    assert aed.json()["features"][0]["dataDate"] == "2026-04"
    park = client.get("/api/collections/parks/items", params={"limit": 1}).json()["features"][0]
    assert "dataDate" not in park  # not said by its source: not made up


def test_the_viewer_page_carries_its_configuration_and_only_its_own_inline_script(client):
    """config.json is written into the page (no request for it), and the CSP allows exactly
    the page's inline script by its hash: nothing injected could run."""
    import base64
    import hashlib
    import json
    import re

    page = client.get("/")
    embedded = re.search(
        r'<script type="application/json" id="viewer-config">(.*?)</script>', page.text, re.DOTALL
    )
    assert embedded and json.loads(embedded.group(1)) == client.get("/config.json").json()
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert len(inline) == 1 and "/api/tiles/WebMercatorQuad/" in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in policy and "unsafe-inline" not in policy
    assert page.headers["cache-control"] == "public, max-age=0, s-maxage=60"
    again = client.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/index.html").text == page.text


def test_the_first_view_files_are_compressed_once_at_the_highest_levels(client):

    import brotli

    plain = client.get("/vendor/viewer.js", headers={"Accept-Encoding": "identity"}).content
    for accept, encoding in (("gzip, deflate, br", "br"), ("gzip", "gzip")):
        with client.stream("GET", "/vendor/viewer.js", headers={"Accept-Encoding": accept}) as r:
            sent = b"".join(r.iter_raw())
        assert (
            r.headers["content-encoding"] == encoding
            and "accept-encoding" in r.headers["vary"].lower()
        )
        assert len(sent) <= (50_000 if encoding == "br" else 58_000)  # br 11 / gzip 9 sizes
        decoded = (
            brotli.decompress(sent) if encoding == "br" else __import__("gzip").decompress(sent)
        )
        assert decoded == plain
