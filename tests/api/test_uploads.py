"""Uploads over HTTP: keys and roles, reports, publish, rollback, diff, preview, audit."""

import json

import pytest
import shapely.geometry
from sqlalchemy import text

from tests.conftest import bearer
from tests.support import variants as v
from tests.support.staging import upload

pytestmark = pytest.mark.db

AED = "/api/datasets/aed/272027"


@pytest.mark.parametrize(
    "crs",
    ["6674", "EPSG:6674", "urn:ogc:def:crs:EPSG::6674", "JGD2011 / Japan Plane Rectangular CS VI"],
)
def test_the_crs_field_takes_every_form_pyproj_reads(client, keys, crs):
    # Kishiwada city hall in plane-rectangular zone VI metres (X northing, Y easting).
    data = v.to_csv(["名称", "X座標", "Y座標"], [["市役所", "-170987.6", "-57473.7"]])
    response = upload(client, keys["kishiwada"], data=data, crs=crs)
    assert response.status_code == 201, response.text
    assert response.json()["report"]["accepted"] == 1


def test_an_unreadable_crs_field_is_a_400_naming_it(client, keys):
    response = upload(client, keys["kishiwada"], data=v.aed_standard_csv(), crs="JGD2011 / nowhere")
    assert response.status_code == 400
    assert "JGD2011 / nowhere" in response.json()["message_en"]
    assert response.json()["message_ja"]


def _geojson_with_crs(name: str, x: float, y: float) -> bytes:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [x, y]},
        "properties": {"名称": "市役所"},
    }
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": name}},
        "features": [feature],
    }
    return json.dumps(document, ensure_ascii=False).encode()


def _rejected_with(response, code: str) -> dict:
    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["report"]["errors"] if e["code"] == code]
    assert error["message_ja"] and error["message_en"]
    return error


def test_a_declared_crs_that_does_not_exist_rejects_the_file(client, keys):
    data = _geojson_with_crs("urn:ogc:def:crs:EPSG::99999", 135.37, 34.46)
    response = upload(client, keys["kishiwada"], data=data, name="aed.geojson")
    error = _rejected_with(response, "unknown_crs")
    assert "EPSG::99999" in error["message_en"] and "EPSG:6668" in error["message_en"]


def test_a_crs_of_another_region_rejects_the_file_naming_found_and_expected(client, keys):
    # Kishiwada city hall written in zone I (Nagasaki's) metres: the data would land at sea.
    data = _geojson_with_crs("urn:ogc:def:crs:EPSG::6669", -57473.7, -170987.6)
    error = _rejected_with(
        upload(client, keys["kishiwada"], data=data, name="aed.geojson"), "crs_outside_area"
    )
    assert "EPSG:6669" in error["message_en"] and "expected EPSG:6674" in error["message_en"]
    csv = v.to_csv(["名称", "X座標", "Y座標"], [["市役所", "-170987.6", "-57473.7"]])
    _rejected_with(upload(client, keys["kishiwada"], data=csv, crs="EPSG:6669"), "crs_outside_area")


def test_a_geopackage_with_an_unidentifiable_crs_is_rejected_for_that_reason(
    client, keys, tmp_path
):
    import numpy
    import pyogrio.raw
    import shapely

    path = tmp_path / "aed.gpkg"
    custom = "+proj=tmerc +lat_0=36 +lon_0=135.5 +k=0.9999 +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
    pyogrio.raw.write(
        str(path),
        geometry=shapely.to_wkb([shapely.Point(-10000.0, -170000.0)]),
        field_data=[numpy.array(["市役所"], dtype=object)],
        fields=["名称"],
        crs=custom,
        driver="GPKG",
        geometry_type="Point",
        layer="aed",
    )
    response = upload(client, keys["kishiwada"], data=path.read_bytes(), name="aed.gpkg")
    _rejected_with(response, "unknown_crs")


def published(client, layer="aed", municipality="272027"):
    body = client.get(
        f"/api/collections/{layer}/items", params={"municipality": municipality, "limit": 10000}
    )
    return body.json()["features"]


def audit(session, action=None):
    rows = session.execute(
        text(
            "SELECT action, result, actor FROM audit_log WHERE layer_id = 'aed' "
            "AND municipality_code = '272027' ORDER BY id"  # the demo's AEDs are elsewhere
        )
    )
    return [r for r in rows.tuples() if action is None or r[0] == action]


def test_writes_need_a_key_of_the_right_municipality(client, keys):
    data = v.aed_standard_csv()
    assert upload(client, None, data=data).status_code == 401
    assert upload(client, "msk_0000_forged", data=data).status_code == 401
    forbidden = upload(client, keys["sakai"], data=data)
    assert forbidden.status_code == 403
    assert forbidden.json()["message_ja"] and forbidden.json()["code"] == "forbidden"
    assert upload(client, keys["prefecture"], data=data).status_code == 403  # 270008's own only
    assert upload(client, keys["admin"], data=data).status_code == 201
    assert client.get(f"{AED}/versions", headers=bearer(keys["sakai"])).status_code == 403


def test_an_editor_key_uploads_but_publishes_nothing_as_a_portal_editor(client, keys, session):
    """One role set: an API key's editor may do what a person's editor may (issue 25 item 12)."""
    editor = bearer(keys["kishiwada_editor"])
    staged = upload(client, keys["kishiwada_editor"], data=v.aed_standard_csv())
    assert staged.status_code == 201, staged.text
    version = staged.json()["id"]
    refused = [
        upload(client, keys["kishiwada_editor"], data=v.aed_standard_csv(), publish=True),
        client.post(f"{AED}/versions/{version}/publish", headers=editor),
        client.post(f"{AED}/rollback", json={"version_id": version}, headers=editor),
        client.post(f"{AED}/take-down", json={"reason": "test"}, headers=editor),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert "editor" in refused[1].json()["message_en"] and refused[1].json()["message_ja"]
    assert client.get(f"{AED}/versions", headers=editor).status_code == 200
    assert audit(session, "publish") == []
    published = client.post(f"{AED}/versions/{version}/publish", headers=bearer(keys["kishiwada"]))
    assert published.status_code == 200  # the municipality's publisher key may


def test_a_viewer_key_reads_but_uploads_nothing(client, session, test_settings):
    from mapsvc.services.keys import auth_secret, create_key

    key, _ = create_key(
        session,
        auth_secret(test_settings),
        municipality_code="272027",
        role="viewer",
        label="reader",
        actor="test",
    )
    session.commit()
    assert upload(client, key, data=v.aed_standard_csv()).status_code == 403


def test_a_revoked_key_stops_working(client, keys, session):
    from mapsvc.services.keys import revoke_key

    revoke_key(session, "_".join(keys["kishiwada"].split("_")[:2]), "test")
    assert upload(client, keys["kishiwada"], data=v.aed_standard_csv()).status_code == 401


def test_upload_publish_and_read_digital_agency_aed_list(client, keys, session):
    response = upload(client, keys["kishiwada"], data=v.aed_standard_csv())
    assert response.status_code == 201, response.json()
    version = response.json()
    assert version["status"] == "staged" and version["created"] is True
    report = version["report"]
    assert (report["rows"], report["accepted"], report["rejected"], report["errors"]) == (
        20,
        20,
        0,
        [],
    )
    assert published(client) == []  # staged is invisible
    assert (
        client.post(
            f"{AED}/versions/{version['id']}/publish", headers=bearer(keys["kishiwada"])
        ).status_code
        == 200
    )
    features = published(client)
    assert len(features) == 20
    first = next(
        f["properties"] for f in features if f["properties"]["source_id"] == "272027-AED-0001"
    )
    assert first["location_detail"] == "1階ロビー"
    assert first["address"].startswith("大阪府岸和田市")
    assert first["phone"] == "072-423-2121"  # full-width digits normalised
    assert first["paediatric"] is True
    assert [a for a, r, _ in audit(session)] == ["upload", "publish"]
    assert all(actor.startswith("key:msk_") for *_, actor in audit(session))


def test_the_older_recommended_dataset_columns_map_too(client, keys):
    response = upload(
        client, keys["kishiwada"], data=v.aed_standard_csv(old_schema=True), publish=True
    )
    assert response.status_code == 201
    props = published(client)[0]["properties"]
    assert props["name"] and props["address"] and props["location_detail"] == "1階ロビー"
    assert props["団体名"] == "岸和田市"  # unknown columns are kept, not dropped


def test_identical_bytes_return_the_existing_version(client, keys, session):
    data = v.aed_standard_csv()
    first = upload(client, keys["kishiwada"], data=data).json()
    again = upload(client, keys["kishiwada"], data=data, name="renamed.csv")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["created"] is False
    assert len(audit(session, "upload")) == 1


def test_identical_bytes_with_publish_publish_the_existing_version(client, keys):
    data = v.aed_standard_csv()
    staged = upload(client, keys["kishiwada"], data=data).json()
    assert published(client) == []
    again = upload(client, keys["kishiwada"], data=data, publish=True)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == staged["id"] and again.json()["status"] == "published"
    assert len(published(client)) == staged["features"]


def test_the_same_bytes_read_with_other_options_are_a_new_version(client, keys):
    data = v.aed_standard_csv()
    first = upload(client, keys["kishiwada"], data=data).json()
    other = upload(client, keys["kishiwada"], data=data, encoding="utf-8")
    assert other.status_code == 201, other.text
    assert other.json()["id"] != first["id"] and other.json()["created"] is True


def test_the_versions_list_comes_a_page_at_a_time(client, keys):
    for i in range(3):
        made = upload(client, keys["kishiwada"], data=v.aed_standard_csv() + b"\r\n" * (i + 1))
        assert made.status_code == 201, made.text  # blank lines make other bytes, same rows
    url = f"{AED}/versions"
    first = client.get(url, params={"limit": 2}, headers=bearer(keys["kishiwada"]))
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    body = first.json()
    assert len(body["versions"]) == 2 and [link["rel"] for link in body["links"]] == ["next"]
    rest = client.get(body["links"][0]["href"], headers=bearer(keys["kishiwada"])).json()
    assert len(rest["versions"]) == 1 and rest["links"] == []
    ids = [x["id"] for x in body["versions"] + rest["versions"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3


def test_staff_answers_are_never_stored_even_refusals(client, keys):
    assert client.get(f"{AED}/versions").headers["cache-control"] == "no-store"  # a 401


def test_a_multipart_body_that_cannot_be_parsed_is_a_400_in_the_error_shape(client, keys):
    response = client.post(
        f"{AED}/versions",
        content=b"--zz\r\nnot a part",
        headers={
            **bearer(keys["kishiwada"]),
            "Content-Type": "multipart/form-data; boundary=zz",
        },
    )
    assert response.status_code in (400, 422), response.text
    body = response.json()
    assert body["code"] and body["message_ja"] and body["message_en"]


def test_a_bad_file_is_rejected_with_row_column_value_and_changes_nothing(client, keys, session):
    good = upload(client, keys["kishiwada"], data=v.aed_standard_csv(), publish=True).json()
    header = ["名称", "緯度", "経度", "小児対応設備の有無"]
    rows = [
        ["市役所", "34.4571", "135.3745", "○"],
        ["消防署", "abc", "135.37", "○"],
        ["図書館", "34.45", "135.37", "たぶん"],
        ["大阪城", "34.6873", "135.5262", "×"],
        ["逆", "135.37", "34.45", "×"],
        ["住所だけ", "", "", "×"],
    ]
    response = upload(client, keys["kishiwada"], data=v.to_csv(header, rows), name="bad.csv")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "upload_rejected" and body["message_ja"] and body["message_en"]
    errors = {e["row"]: e for e in body["report"]["errors"]}
    assert body["report"]["rows"] == 6 and body["report"]["accepted"] == 1
    assert errors[3]["code"] == "unreadable_coordinates"
    assert (errors[3]["column"], errors[3]["value"]) == ("経度/緯度", "135.37, abc")
    assert errors[4]["column"] == "小児対応設備の有無" and errors[4]["value"] == "たぶん"
    assert errors[5]["code"] == "outside_municipality"  # Osaka Castle filed under Kishiwada
    assert errors[6]["code"] == "swapped_coordinates"
    assert errors[7]["code"] == "missing_coordinates"
    assert all(e["message_ja"] and e["message_en"] for e in errors.values())
    assert len(published(client)) == 20
    versions = client.get(f"{AED}/versions", headers=bearer(keys["kishiwada"])).json()["versions"]
    assert [x["id"] for x in versions] == [good["id"]]
    assert audit(session)[-1][:2] == ("upload", "rejected")
    partial = upload(
        client, keys["kishiwada"], data=v.to_csv(header, rows), name="bad.csv", accept_partial=True
    )
    assert partial.status_code == 201 and partial.json()["features"] == 1
    publish = f"{AED}/versions/{partial.json()['id']}/publish"
    refused = client.post(publish, headers=bearer(keys["kishiwada"]))
    assert refused.status_code == 409 and "accept_dropped_rows" in refused.json()["message_en"]
    assert len(published(client)) == 20  # the good version is still the published one
    accepted = client.post(
        publish, params={"accept_dropped_rows": "true"}, headers=bearer(keys["kishiwada"])
    )
    assert accepted.status_code == 200


def test_rollback_to_any_earlier_version(client, keys):
    first = upload(client, keys["kishiwada"], data=v.aed_standard_csv(), publish=True).json()
    second = upload(
        client, keys["kishiwada"], data=v.aed_standard_csv(old_schema=True), publish=True
    ).json()
    assert {f["properties"].get("団体名") for f in published(client)} == {"岸和田市"}
    response = client.post(
        f"{AED}/rollback", json={"version_id": first["id"]}, headers=bearer(keys["kishiwada"])
    )
    assert response.status_code == 200 and response.json()["id"] == first["id"]
    assert "団体名" not in published(client)[0]["properties"]
    listed = client.get(f"{AED}/versions", headers=bearer(keys["kishiwada"])).json()["versions"]
    assert {x["id"]: x["status"] for x in listed} == {
        first["id"]: "published",
        second["id"]: "retired",
    }
    never = client.post(
        f"{AED}/rollback", json={"version_id": 10**9}, headers=bearer(keys["kishiwada"])
    )
    assert never.status_code == 404


def test_diff_by_the_gsi_common_id(client, keys):
    url = "/api/datasets/evacuation_sites/272027"
    header, rows = v.gsi_csv_rows(v.gsi_features())
    old = upload(client, keys["kishiwada"], url, v.to_csv(header, rows), "old.csv").json()
    changed = [row[:] for row in rows[1:]]  # the first site is removed
    changed[0][2] = changed[0][2] + "（改称）"  # renamed
    changed[1][-3] = f"{float(changed[1][-3]) + 0.001:.6f}"  # moved ~111 m north
    extra = changed[2][:]
    extra[1], extra[2] = "E2720200999201", "新しい避難場所"
    new = upload(
        client, keys["kishiwada"], url, v.to_csv(header, [*changed, extra]), "new.csv"
    ).json()
    diff = client.get(
        f"{url}/versions/{old['id']}/diff/{new['id']}", headers=bearer(keys["kishiwada"])
    ).json()
    assert diff["counts"] == {
        "added": 1,
        "removed": 1,
        "changed": 2,
        "moved": 1,
        "unchanged": len(rows) - 3,
    }
    assert diff["added"][0]["key"] == "E2720200999201"
    assert diff["removed"][0]["key"] == rows[0][1]
    by_key = {c["key"]: c for c in diff["changed"]}
    assert by_key[rows[1][1]]["attributes"]["name"]["to"].endswith("（改称）")
    assert 105 < by_key[rows[2][1]]["moved_m"] < 117


def test_preview_is_a_map_with_inert_uploaded_text(client, keys):
    header = ["名称", "緯度", "経度", "備考"]
    rows = [["<script>alert(1)</script>", "34.4571", "135.3745", "<img src=x onerror=alert(2)>"]]
    version = upload(client, keys["kishiwada"], data=v.to_csv(header, rows)).json()
    page = client.get(f"{AED}/versions/{version['id']}/preview", headers=bearer(keys["kishiwada"]))
    assert page.status_code == 200
    assert "L.map(" in page.text and "L.geoJson(" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "onerror=alert(2)>" not in page.text.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert "/vendor/leaflet/leaflet.js" in page.text and "cdn.jsdelivr" not in page.text
    assert "'unsafe-inline'" in page.headers["content-security-policy"]


def test_prefecture_wide_layers_belong_to_the_prefecture(client, keys):
    flood = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"A31a_205": "3", "A31a_202": "大津川"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [135.40, 34.47],
                            [135.42, 34.47],
                            [135.42, 34.49],
                            [135.40, 34.49],
                            [135.40, 34.47],
                        ]
                    ],
                },
            }
        ],
    }
    url = "/api/datasets/flood_hazard/270008"
    data = json.dumps(flood).encode()
    assert upload(client, keys["kishiwada"], url, data, "flood.geojson").status_code == 403
    response = upload(client, keys["prefecture"], url, data, "flood.geojson", publish=True)
    assert response.status_code == 201, response.json()
    [feature] = published(client, "flood_hazard", "270008")
    assert (
        feature["properties"]["depth_class"] == "3"
        and feature["geometry"]["type"] == "MultiPolygon"
    )
    kyoto = json.loads(json.dumps(flood))
    kyoto["features"][0]["geometry"]["coordinates"] = [
        [[135.75, 35.0], [135.76, 35.0], [135.76, 35.01], [135.75, 35.0]]
    ]
    outside = upload(client, keys["prefecture"], url, json.dumps(kyoto).encode(), "kyoto.geojson")
    assert outside.status_code == 422
    assert outside.json()["report"]["errors"][0]["code"] == "outside_municipality"


def test_wards_are_not_dataset_owners(client, keys):
    response = upload(client, keys["admin"], "/api/datasets/aed/271276", v.aed_standard_csv())
    assert response.status_code == 400
    assert "271004" in response.json()["message_en"]


def test_upload_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/datasets/{layer}/{municipality}/versions",
        "/api/datasets/{layer}/{municipality}/versions/{version_id}/preview",
        "/api/datasets/{layer}/{municipality}/versions/{version_id}/publish",
        "/api/datasets/{layer}/{municipality}/rollback",
        "/api/datasets/{layer}/{municipality}/versions/{old}/diff/{new}",
    ):
        assert path in paths


def test_an_external_database_without_an_api_key_secret_says_so_with_503(session, test_settings):
    from fastapi.testclient import TestClient

    from mapsvc.api.deps import get_session
    from mapsvc.app import create_app

    no_secret = test_settings.auth.model_copy(update={"secret": None})
    app = create_app(test_settings.model_copy(update={"auth": no_secret}))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as client:
        response = upload(client, "msk_0000_anything", data=v.aed_standard_csv())
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "configuration_error"
    assert "MAPSVC_AUTH__SECRET" in response.json()["message_en"]


def test_a_zone_must_lie_within_the_municipality_it_is_filed_under(client, keys):
    def zone(*corners: tuple[float, float]) -> bytes:
        ring = [list(c) for c in (*corners, corners[0])]
        feature = {
            "type": "Feature",
            "properties": {"A31a_205": "3"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()

    url = "/api/datasets/flood_hazard/272027"
    # From 岸和田市 up to 豊中市: it overlaps Kishiwada, and covers half the prefecture.
    spilling = zone((135.37, 34.45), (135.40, 34.45), (135.47, 34.78), (135.44, 34.78))
    refused = upload(client, keys["kishiwada"], url, spilling, "zone.geojson", publish=True)
    assert refused.status_code == 422, refused.json()
    [error] = refused.json()["report"]["errors"]
    assert error["code"] == "outside_municipality" and "reaches outside" in error["message_en"]
    assert published(client, "flood_hazard", "272027") == []
    inside = zone((135.37, 34.45), (135.38, 34.45), (135.38, 34.46), (135.37, 34.46))
    accepted = upload(client, keys["kishiwada"], url, inside, "zone.geojson", publish=True)
    assert accepted.status_code == 201, accepted.json()
    assert len(published(client, "flood_hazard", "272027")) == 1


@pytest.mark.parametrize(
    ("value", "status"), [("2015", 201), ("2026-04-01", 201), ("R8", 400), ("2015-13", 400)]
)
def test_the_datas_own_date_is_checked_and_recorded(client, keys, value, status):
    response = upload(client, keys["kishiwada"], data=v.aed_standard_csv(), data_date=value)
    assert response.status_code == status, response.text
    if status == 400:
        assert "data_date" in response.json()["message_en"]
    else:
        assert response.json()["options"]["data_date"] == value


def test_a_ksj_a31a_zip_imports_unmodified_with_the_right_classes(client, keys, tmp_path):
    from tests.support.ksj_hazards import OTORI_RIVER, a31a_zip

    url = "/api/datasets/flood_hazard/270008"
    data = a31a_zip(tmp_path)
    choose = upload(client, keys["prefecture"], url, data, "A31a-24_27_10_SHP.zip")
    assert choose.status_code == 422  # two scenario folders: which one is asked, and listed
    [issue] = choose.json()["report"]["errors"]
    assert issue["code"] == "choose_layer" and "A31a-24_27_20_2700050001" in issue["value"]
    maximum = upload(
        client,
        keys["prefecture"],
        url,
        data,
        "A31a-24_27_10_SHP.zip",
        layer="A31a-24_27_20_2700050001",
        publish=True,
    )
    assert maximum.status_code == 201, maximum.text
    zones = published(client, "flood_hazard", "270008")
    assert sorted(z["properties"]["depth_class"] for z in zones) == ["1", "2", "4"]
    assert {z["properties"]["river_name"] for z in zones} == {OTORI_RIVER[1]}  # CP932 .dbf read
    assert {z["properties"]["river_id"] for z in zones} == {OTORI_RIVER[0]}  # not taken for a rank


def test_a_ksj_a40_zip_imports_unmodified_and_a_tap_inside_says_to_go_high(client, keys, tmp_path):
    from tests.support.ksj_hazards import a40_zip

    url = "/api/datasets/tsunami_hazard/270008"
    done = upload(client, keys["prefecture"], url, a40_zip(tmp_path), "A40-16_27.zip", publish=True)
    assert done.status_code == 201, done.text
    zones = published(client, "tsunami_hazard", "270008")
    classes = {z["properties"]["depth_range"]: z["properties"]["depth_class"] for z in zones}
    assert classes == {
        "0.3m未満": "1",
        "0.3m以上1.0m未満": "2",
        "1.0m以上2.0m未満": "3",
        "2.0m以上5.0m未満": "4",
    }
    deepest = next(z for z in zones if z["properties"]["depth_class"] == "4")
    x, y = shapely.geometry.shape(deepest["geometry"]).representative_point().coords[0]
    answer = client.get("/api/point", params={"lon": x, "lat": y}).json()
    tsunami = next(h for h in answer["hazards"] if h["layer"] == "tsunami_hazard")
    assert tsunami["status"] == "inside" and tsunami["classes"][0]["label"]["en"] == "2 to 5 m"
    assert tsunami["scenarios"][0]["advice"]["en"].startswith("Tsunami risk")
    assert tsunami["scenarios"][0]["evacuation"]["site"]["distance_m"] > 0


def tap_inside(client, zone, layer):
    """The point answer for ``layer`` at a point inside ``zone`` (a published feature)."""
    x, y = shapely.geometry.shape(zone["geometry"]).representative_point().coords[0]
    answer = client.get("/api/point", params={"lon": x, "lat": y}).json()
    return next(h for h in answer["hazards"] if h["layer"] == layer)


def designated_for(client, site, flag):
    """Whether the nearest site the answer names is designated for ``flag``'s hazard."""
    url = f"/api/collections/evacuation_sites/items/{site['id']}"
    return client.get(url).json()["properties"][flag] is True


def test_a_ksj_house_collapse_folder_imports_and_a_tap_inside_says_leave(client, keys, tmp_path):
    from tests.support.ksj_hazards import OTORI_RIVER, a31a_zip

    done = upload(
        client,
        keys["prefecture"],
        "/api/datasets/flood_house_collapse/270008",
        a31a_zip(tmp_path),
        "A31a-24_27_10_SHP.zip",
        layer="A31a-24_27_41_2700050001",
        publish=True,
    )
    assert done.status_code == 201, done.text
    zones = published(client, "flood_house_collapse", "270008")
    assert len(zones) == 3 and {z["properties"]["river_name"] for z in zones} == {OTORI_RIVER[1]}
    answer = tap_inside(client, zones[0], "flood_house_collapse")
    assert answer["status"] == "inside"
    assert "屋内安全確保）はできません" in answer["scenarios"][0]["advice"]["ja"]
    assert designated_for(client, answer["scenarios"][0]["evacuation"]["site"], "flood")


def test_a_ksj_duration_folder_imports_and_a_long_flood_advises_against_staying(
    client, keys, tmp_path
):
    from tests.support.ksj_hazards import a31a_zip

    done = upload(
        client,
        keys["prefecture"],
        "/api/datasets/flood_duration/270008",
        a31a_zip(tmp_path),
        "A31a-24_27_10_SHP.zip",
        layer="A31a-24_27_30_2700050001",
        publish=True,
    )
    assert done.status_code == 201, done.text
    zones = published(client, "flood_duration", "270008")
    assert sorted(z["properties"]["duration_class"] for z in zones) == ["1", "2", "5"]
    longest = next(z for z in zones if z["properties"]["duration_class"] == "5")
    answer = tap_inside(client, longest, "flood_duration")
    assert answer["classes"][0]["label"]["en"] == "1 to 2 weeks"
    assert answer["scenarios"][0]["advice"]["en"].startswith(
        "Water may stay for three days or more"
    )


def test_a_ksj_a33_zip_imports_unmodified_with_zone_classes_and_phenomena(client, keys):
    from tests.support.ksj_hazards import A33_ZONES, a33_zip

    url = "/api/datasets/landslide_hazard/270008"
    done = upload(client, keys["prefecture"], url, a33_zip(), "A33-25_27_GEOJSON.zip", publish=True)
    assert done.status_code == 201, done.text
    zones = sorted(
        published(client, "landslide_hazard", "270008"),
        key=lambda z: z["properties"]["zone_number"],
    )
    got = [(z["properties"]["phenomenon"], z["properties"]["zone_class"]) for z in zones]
    assert got == list(A33_ZONES)  # A33_002 is the class; A33_004 (the number) is not
    assert zones[0]["properties"]["designated_on"] == "2019-03-29"  # GDAL reads the date
    before_designation = tap_inside(client, zones[3], "landslide_hazard")
    assert before_designation["classes"][0]["label"]["ja"] == "土砂災害特別警戒区域（指定前）"
    assert before_designation["scenarios"][0]["advice"]["en"].startswith(
        "Special landslide warning zone"
    )
    yellow = tap_inside(client, zones[0], "landslide_hazard")
    assert yellow["scenarios"][0]["advice"]["en"].startswith("Landslide warning zone")
    assert designated_for(client, yellow["scenarios"][0]["evacuation"]["site"], "landslide")


def test_a_ksj_a49_zip_imports_unmodified_and_a_deep_zone_says_leave_before_the_storm(client, keys):
    from tests.support.ksj_hazards import a49_zip

    url = "/api/datasets/storm_surge_hazard/270008"
    done = upload(client, keys["prefecture"], url, a49_zip(), "A49-20_27_GEOJSON.zip", publish=True)
    assert done.status_code == 201, done.text
    zones = published(client, "storm_surge_hazard", "270008")
    classes = {z["properties"]["depth_range"]: z["properties"]["depth_class"] for z in zones}
    assert classes == {
        "0.3m未満": "1",
        "0.3m以上0.5m未満": "2",
        "1m以上3m未満": "4",
        "3m以上5m未満": "5",
    }
    deep = next(z for z in zones if z["properties"]["depth_class"] == "5")
    answer = tap_inside(client, deep, "storm_surge_hazard")
    assert answer["classes"][0]["label"]["en"] == "3 to 5 m"
    assert "before the typhoon arrives" in answer["scenarios"][0]["advice"]["en"]
    assert designated_for(client, answer["scenarios"][0]["evacuation"]["site"], "storm_surge")


def test_uploads_beyond_the_workers_slots_wait_then_get_a_503(session, test_settings, keys):
    from fastapi.testclient import TestClient

    from mapsvc.api.deps import get_session
    from mapsvc.app import create_app

    one = test_settings.imports.model_copy(update={"concurrent_uploads": 1, "upload_wait_s": 0.2})
    app = create_app(test_settings.model_copy(update={"imports": one}))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as client:
        with app.state.upload_slots.held():  # another editor's large file is being read
            busy = upload(client, keys["kishiwada"], data=v.aed_standard_csv())
        assert busy.status_code == 503 and busy.json()["code"] == "busy"
        assert int(busy.headers["retry-after"]) >= 1 and busy.json()["message_ja"]
        assert upload(client, keys["kishiwada"], data=v.aed_standard_csv()).status_code == 201


def test_sakais_address_only_park_list_gets_town_centre_positions_with_a_warning_each(client, keys):
    from tests.support.paths import TEST_DATA

    data = (TEST_DATA / "sakai" / "271403_sakai_koen_ichiran.csv").read_bytes()
    url = "/api/datasets/parks/271403"
    refused = upload(client, keys["sakai"], url, data, "sakai_koen.csv")
    assert refused.status_code == 422  # off by default: no coordinates is still a clear error
    assert refused.json()["report"]["errors"][0]["code"] == "no_coordinate_columns"
    done = upload(
        client, keys["sakai"], url, data, "sakai_koen.csv", town_positions=True, publish=True
    )
    assert done.status_code == 201, done.text[:2000]
    report = done.json()["report"]
    assert report["accepted"] == 1192 and report["errors"] == []
    approximate = [w for w in report["warnings"] if w["code"] == "approximate_position"]
    assert len(approximate) == 1192 and approximate[0]["column"] == "所在地"
    assert done.json()["options"]["town_positions"] is True  # recorded with the version
    parks = {p["properties"]["name"]: p for p in published(client, "parks", "271403")}
    ohama = shapely.geometry.shape(parks["大浜公園"]["geometry"])  # 堺区大浜北町４丁７７－１
    assert ohama.distance(shapely.Point(135.4637, 34.5785)) < 0.01  # 大浜北町四丁's point


def test_an_address_that_names_no_town_is_a_row_error_with_the_closest_towns(client, keys):
    rows = "公園名称,所在地\r\n大浜公園,堺区大浜北町４丁７７－１\r\n架空公園,堺区大浜東町９丁１\r\n"
    done = upload(
        client,
        keys["sakai"],
        "/api/datasets/parks/271403",
        rows.encode("cp932"),
        "parks.csv",
        town_positions=True,
        accept_partial=True,
    )
    assert done.status_code == 201, done.text
    [error] = done.json()["report"]["errors"]
    assert error["row"] == 3 and error["code"] == "address_not_matched"
    assert "大浜" in error["message_ja"] and "近い町名" in error["message_ja"]


def test_a_database_that_gives_up_during_the_copy_is_a_503(client, keys, session, engine):
    # COPY runs on psycopg directly (writes.copy_features): a lock or statement timeout there
    # must reach the error table as SQLAlchemy's OperationalError (503, retry later), not a 500.
    session.execute(text("SET LOCAL lock_timeout = '200ms'"))
    with engine.connect() as other, other.begin():
        other.execute(text("LOCK TABLE feature IN SHARE MODE"))  # readers pass, writers wait
        response = upload(client, keys["kishiwada"], data=v.aed_standard_csv(), publish=True)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "unavailable"


def test_a_facility_in_the_next_town_is_kept_with_a_warning_naming_it_and_one_far_off_is_not(
    client, keys
):
    # Kishiwada's own AED in its city hall, one at Kaizuka city hall (the next town, ~1 km past
    # the border: a facility a municipality runs there is real) and one at Osaka Castle (28 km).
    rows = [
        "ID,名称,緯度,経度,設置位置",
        "K1,岸和田市役所,34.4603,135.3716,1階",
        "K2,貝塚市役所,34.4376,135.3584,1階",
        "K3,大阪城,34.6873,135.5259,1階",
    ]
    response = upload(client, keys["kishiwada"], data="\n".join(rows).encode())
    report = response.json()["report"]
    [error] = report["errors"]
    assert error["row"] == 4 and error["code"] == "outside_municipality"
    [warning] = [w for w in report["warnings"] if w["code"] == "outside_municipality_nearby"]
    assert warning["row"] == 3
    assert "貝塚市内" in warning["message_ja"] and "Kaizuka-shi" in warning["message_en"]
