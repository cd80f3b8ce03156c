"""Vector tiles: per collection and multi-layer, TileJSON, zoom ranges, tile-ready geometry."""

import math

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.db


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_multi_layer_tile_holds_each_requested_layer(client):
    x, y = tile_of(135.3716, 34.4603, 12)
    response = client.get(
        f"/api/tiles/WebMercatorQuad/12/{y}/{x}",
        params={"collections": "evacuation_sites,municipal_boundaries"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert b"evacuation_sites" in response.content and b"municipal_boundaries" in response.content
    again = client.get(response.url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_tiles_respect_each_layers_zoom_range_and_empty_places(client):
    x, y = tile_of(135.3716, 34.4603, 6)
    assert (
        client.get(f"/api/collections/schools/tiles/WebMercatorQuad/6/{y}/{x}").status_code == 204
    )  # minzoom 10
    x, y = tile_of(139.7, 35.7, 12)  # Tokyo: nothing published there
    assert (
        client.get(f"/api/collections/schools/tiles/WebMercatorQuad/12/{y}/{x}").status_code == 204
    )
    for bad in (
        "/api/collections/schools/tiles/WebMercatorQuad/3/9/9",
        "/api/collections/schools/tiles/WebMercatorQuad/30/0/0",
    ):
        assert client.get(bad).status_code == 400
    assert (
        client.get(
            "/api/tiles/WebMercatorQuad/10/400/900", params={"collections": "nope"}
        ).status_code
        == 404
    )


def test_tilejson_describes_the_collection(client):
    body = client.get("/api/collections/schools/tiles/WebMercatorQuad?f=tilejson").json()
    assert body["tilejson"] == "3.0.0" and body["minzoom"] == 10
    assert body["tiles"][0].endswith("/api/collections/schools/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert body["vector_layers"][0]["id"] == "schools"


def test_polygons_get_generalised_subdivided_geometry_when_published(session):
    rows = session.execute(
        text(
            "SELECT g.band, count(*), sum(ST_NPoints(g.geom)), max(ST_NPoints(g.geom)) FROM tile_geom g "
            "JOIN dataset d ON d.current_version_id = g.version_id WHERE d.layer_id = 'municipal_boundaries' "
            "GROUP BY g.band ORDER BY g.band"
        )
    ).all()
    assert [band for band, *_ in rows] == [0, 1, 2, 3]
    vertices = [total for _, _, total, _ in rows]
    assert vertices[0] < vertices[1] <= vertices[3]  # coarser bands carry fewer vertices
    assert all(largest <= 256 + 10 for *_, largest in rows)  # subdivided into small pieces
    points = session.execute(
        text(
            "SELECT count(*) FROM tile_geom g JOIN dataset d ON d.current_version_id = g.version_id "
            "WHERE d.layer_id = 'evacuation_sites'"
        )
    ).scalar_one()
    assert points == 0  # point tiles read the features directly


def test_display_tiles_carry_geometry_and_class_only(client):
    """The viewer's multi-layer tiles leave out ids and names; a collection's tiles keep them."""
    site = client.get("/api/collections/evacuation_sites/items", params={"limit": 1}).json()
    lon, lat = site["features"][0]["geometry"]["coordinates"]
    name = site["features"][0]["properties"]["name"].encode()
    x, y = tile_of(lon, lat, 14)
    full = client.get(f"/api/collections/evacuation_sites/tiles/WebMercatorQuad/14/{y}/{x}")
    display = client.get(
        f"/api/tiles/WebMercatorQuad/14/{y}/{x}", params={"collections": "evacuation_sites"}
    )
    assert name in full.content and site["features"][0]["id"].encode() in full.content
    assert display.status_code == 200 and name not in display.content
    assert b"271" not in display.content  # no public ids (they start with the municipality code)
    assert len(display.content) < len(full.content) / 2


def test_ogc_api_tiles_metadata_leads_from_the_collection_to_a_tile(client):
    """Collection -> tilesets -> tileset -> templated tile link, as OGC API – Tiles lays out."""
    assert (
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset"
        in client.get("/api/conformance").json()["conformsTo"]
    )
    collection = client.get("/api/collections/schools").json()
    rel = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
    href = next(link["href"] for link in collection["links"] if link["rel"] == rel)
    tilesets = client.get(href).json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector" and tilesets[0]["crs"].endswith("/EPSG/0/3857")
    tileset = client.get(tilesets[0]["links"][0]["href"]).json()
    assert tileset["layers"][0]["geometryDimension"] == 0
    assert tileset["tileMatrixSetLimits"][0]["tileMatrix"] == "10"  # the layer's minzoom
    template = next(link for link in tileset["links"] if link["rel"] == "item")
    assert template["templated"] and template["type"] == "application/vnd.mapbox-vector-tile"
    x, y = tile_of(135.3716, 34.4603, 14)
    url = template["href"].format(tileMatrix=14, tileRow=y, tileCol=x)
    tile = client.get(url)
    assert tile.status_code == 200 and tile.content
    scheme = next(
        link["href"] for link in tileset["links"] if link["rel"].endswith("tiling-scheme")
    )
    matrices = client.get(scheme).json()["tileMatrices"]
    assert matrices[14]["matrixWidth"] == 2**14 and matrices[0]["pointOfOrigin"][0] < -2e7
    assert client.get("/api/tileMatrixSets/WorldCRS84Quad").status_code == 404
    assert client.get(tilesets[0]["links"][0]["href"], params={"f": "xml"}).status_code == 400


def test_display_tiles_draw_points_sharing_a_pixel_once_and_collection_tiles_keep_all(client, keys):
    """At z10 a pixel is ~150 m: three AEDs 5 m apart are one dot; a client's own tiles have all."""
    import json

    import mapbox_vector_tile

    from tests.support.staging import upload

    spots = [
        (135.37160, 34.46030),
        (135.37165, 34.46030),
        (135.37166, 34.46034),
    ]
    body = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(spot)},
                    "properties": {"名称": f"AED {i}", "住所": "岸和田市岸城町7-1"},
                }
                for i, spot in enumerate(spots)
            ],
        },
        ensure_ascii=False,
    ).encode()
    done = upload(client, keys["kishiwada"], data=body, name="aed.geojson", publish=True)
    assert done.status_code == 201, done.text

    def drawn(url: str, z: int, **params: str) -> int:
        """The dots near the three AEDs (5 pixels at z10): other AEDs share the tile."""
        response = client.get(url, params=params)
        assert response.status_code == 200
        tile = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})
        n, extent = 2**z, tile["aed"]["extent"]  # display tiles: 512 units, others 4096
        fx = ((spots[0][0] + 180) / 360 * n % 1) * extent
        fy = ((1 - math.asinh(math.tan(math.radians(spots[0][1]))) / math.pi) / 2 * n % 1) * extent
        points = [  # a display tile holds each class's points as one multipoint
            p
            for f in tile["aed"]["features"]
            for p in (
                f["geometry"]["coordinates"]
                if f["geometry"]["type"] == "MultiPoint"
                else [f["geometry"]["coordinates"]]
            )
        ]
        return sum(math.dist(p, (fx, fy)) < 80 / 4096 * extent * 2 ** (z - 10) for p in points)

    x, y = tile_of(*spots[0], 10)
    assert drawn(f"/api/tiles/WebMercatorQuad/10/{y}/{x}", 10, collections="aed") == 1
    assert drawn(f"/api/collections/aed/tiles/WebMercatorQuad/10/{y}/{x}", 10) == 3
    x, y = tile_of(*spots[0], 18)  # 5 m is 8 pixels here: each AED its own dot
    assert drawn(f"/api/tiles/WebMercatorQuad/18/{y}/{x}", 18, collections="aed") == 3


def test_display_tiles_send_each_classs_points_as_one_multipoint(client):
    """Central Osaka at z10: the sites a collection tile lists, in a tile a third the size."""
    import mapbox_vector_tile

    x, y = tile_of(135.50, 34.69, 10)
    full = client.get(f"/api/collections/evacuation_sites/tiles/WebMercatorQuad/10/{y}/{x}")
    display = client.get(
        f"/api/tiles/WebMercatorQuad/10/{y}/{x}", params={"collections": "evacuation_sites"}
    )
    listed = mapbox_vector_tile.decode(full.content)["evacuation_sites"]["features"]
    drawn = mapbox_vector_tile.decode(display.content)["evacuation_sites"]["features"]
    assert {f["geometry"]["type"] for f in drawn} <= {"MultiPoint", "Point"}
    classes = [f["properties"].get("class") for f in drawn]
    assert len(classes) == len(set(classes))  # one feature per class
    points = sum(
        len(f["geometry"]["coordinates"]) if f["geometry"]["type"] == "MultiPoint" else 1
        for f in drawn
    )
    assert 0.75 * len(listed) <= points <= len(listed)  # those sharing a pixel drawn once
    assert len(display.content) < len(full.content) / 3
