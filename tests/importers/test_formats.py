"""Every format staff really have, read from real data and its awkward variants, exact counts."""

import csv
import io
import json
import zipfile

import pytest
import shapely

from importers import (
    ImportOptions,
    ImportRejected,
    ImportReport,
    detect_format,
    read_records,
    to_features,
)
from tests.support import variants as v
from tests.support.paths import TEST_DATA

GTFS = TEST_DATA / "gtfs"


def run(data: bytes, target, name: str = "upload", **options):
    report = ImportReport()
    opts = ImportOptions(**options)
    fmt, records = read_records(data, name, opts, report=report)
    return fmt, list(to_features(records, target, report, options=opts)), report


def close_to_source(features, source, tolerance=1e-6):
    """Every feature lies on a point of the source file, and every source point is used."""
    points = [shapely.Point(f["geometry"]["coordinates"]) for f in source]
    for feature in features:
        assert min(feature.geometry.distance(p) for p in points) < tolerance


def test_gsi_csv_saved_by_excel_in_shift_jis_with_crlf(catalog):
    source = v.gsi_features()
    fmt, features, report = run(v.gsi_csv_cp932(), catalog["evacuation_sites"], "避難場所.csv")
    assert fmt == "csv"
    assert (report.rows, report.accepted, report.errors) == (len(source), len(source), [])
    assert any(w.code == "encoding_cp932" for w in report.warnings)
    first = features[0]
    assert first.properties["name"] == "大芝小学校　（３階廊下）"
    assert first.properties["tsunami"] is True and first.properties["flood"] is False
    assert first.source_id == "E2720200003201"
    close_to_source(features, source)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("utf-16", "\t"), ("cp932", "\t")],
)
def test_csv_and_tsv_in_every_real_encoding(catalog, encoding, delimiter):
    header, rows = v.gsi_csv_rows(v.gsi_features())
    data = v.to_csv(header, rows, encoding=encoding, delimiter=delimiter)
    _, features, report = run(data, catalog["evacuation_sites"])
    assert report.accepted == len(rows) and not report.errors
    assert (
        features[0].properties["name"] == "大芝小学校　（３階廊下）"
    )  # no BOM in the first header


def test_cp932_only_characters_decode(catalog):
    header = ["名称", "緯度", "経度"]
    rows = [["髙島屋①㈱﨑Ⅲ", "34.46", "135.37"]]
    _, features, _ = run(v.to_csv(header, rows, encoding="cp932"), catalog["parks"])
    assert features[0].properties["name"] == "髙島屋①㈱﨑Ⅲ"


def test_undecodable_bytes_are_rejected_with_the_offset(catalog):
    data = "名称,緯度,経度\n".encode() + b"\x82\xa0\xff\xff,34.4,135.3\n"
    with pytest.raises(ImportRejected) as caught:
        run(data, catalog["parks"])
    assert caught.value.issue.code == "undecodable_text"
    # 6 kanji (18 bytes), 2 commas and a newline come first: the bad byte is at offset 21.
    assert "Byte 21" in caught.value.issue.message_en
    assert caught.value.issue.value.startswith("82 a0")


def test_plane_rectangular_xy_in_survey_order_is_reprojected(catalog):
    source = v.gsi_features()
    _, features, report = run(
        v.plane_rectangular_csv(), catalog["evacuation_sites"], plane_srid=6674
    )
    assert report.accepted == len(source)
    assert any("northing" in w.message_en for w in report.warnings)
    close_to_source(features, source, tolerance=1e-5)


def test_gis_point_x_is_the_easting(catalog):
    source = v.gsi_features()
    _, features, report = run(
        v.plane_rectangular_csv(survey_order=False), catalog["evacuation_sites"], plane_srid=6674
    )
    assert report.accepted == len(source)
    close_to_source(features, source, tolerance=1e-5)


def test_xy_order_follows_the_municipality_when_names_mislead(catalog):
    # Survey-named columns holding (easting, northing): only the boundary can tell.
    data = (
        v.plane_rectangular_csv(survey_order=False)
        .replace(b"POINT_X", "X座標".encode())
        .replace(b"POINT_Y", "Y座標".encode())
    )
    kishiwada = shapely.buffer(shapely.box(135.30, 34.38, 135.50, 34.52), 0.0)
    _, features, _ = run(data, catalog["evacuation_sites"], plane_srid=6674, boundary=kishiwada)
    close_to_source(features, v.gsi_features(), tolerance=1e-5)


def test_plane_coordinates_without_a_crs_are_refused(catalog):
    with pytest.raises(ImportRejected, match="CRS"):
        run(v.plane_rectangular_csv(), catalog["evacuation_sites"])


def test_excel_with_camelcase_headers_and_marks(catalog):
    source = v.gsi_features()
    fmt, features, report = run(v.excel_camelcase(), catalog["evacuation_sites"], "hinan.xlsx")
    assert fmt == "xlsx" and report.accepted == len(source) and not report.errors
    by_name = {f.properties["name"]: f for f in features}
    first = by_name["大芝小学校　（３階廊下）"]
    assert first.properties["tsunami"] is True and first.properties["flood"] is False
    assert first.properties["volcano"] == "conditional"  # the △ of row 1


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_old_excel_and_opendocument_read_like_xlsx(catalog, kind):
    """Many municipal files are still .xls: the same columns, marks and row numbers as .xlsx,
    detected by their bytes whatever the file is called."""
    layer = catalog["evacuation_sites"]
    _, expected, _ = run(v.excel_camelcase("xlsx"), layer, "hinan.xlsx")
    fmt, features, report = run(v.excel_camelcase(kind), layer, "hinan.csv")
    assert fmt == kind and not report.errors
    assert [(f.row, f.geometry.wkt, dict(f.properties)) for f in features] == [
        (f.row, f.geometry.wkt, dict(f.properties)) for f in expected
    ]
    titled = v.excel_camelcase(kind, title="岸和田市 指定緊急避難場所一覧（令和6年4月）")
    _, shifted, _ = run(titled, layer, f"hinan.{kind}")
    assert [f.row for f in shifted] == [f.row + 2 for f in expected]  # Excel's numbering
    with pytest.raises(ImportRejected, match="メモ"):
        run(v.excel_camelcase(kind), layer, f"hinan.{kind}", sheet="存在しない")


def test_excel_named_sheet_and_unknown_sheet(catalog):
    with pytest.raises(ImportRejected, match=r"メモ|避難場所"):
        run(v.excel_camelcase(), catalog["evacuation_sites"], sheet="no such sheet")
    with pytest.raises(ImportRejected) as caught:
        run(v.excel_camelcase(), catalog["evacuation_sites"], sheet="メモ")
    assert caught.value.issue.code in ("no_rows", "no_coordinate_columns")


def test_shapefile_zip_in_zone_vi_with_cp932_dbf_and_no_cpg(catalog, tmp_path):
    source = v.ksj_features("P05-22_27.geojson")
    fmt, features, report = run(
        v.shapefile_zip_zone6(tmp_path), catalog["public_facilities"], "施設.zip"
    )
    assert fmt == "shapefile"
    assert report.accepted == len(source) == 45 and not report.errors
    assert {f.properties["name"] for f in features} == {s["properties"]["P05_003"] for s in source}
    close_to_source(features, source, tolerance=1e-6)


def test_kml_from_a_web_map(catalog, tmp_path):
    source = v.ksj_features("P29-21_27.geojson")
    fmt, features, report = run(v.kml_schools(tmp_path), catalog["schools"], "schools.kml")
    assert fmt == "kml" and report.accepted == len(source) == 92
    assert "和泉高等学校" in {f.properties["name"] for f in features}
    assert "timestamp" not in features[0].properties
    close_to_source(features, source)


def test_kmz_is_read_from_its_doc_kml(catalog, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("doc.kml", v.kml_schools(tmp_path))
    fmt, features, _ = run(buffer.getvalue(), catalog["schools"], "schools.kmz")
    assert fmt == "kml" and len(features) == 92


def test_geopackage_with_one_layer_and_a_choice_of_two(catalog, tmp_path):
    source = v.gsi_features("evacuation")
    fmt, features, report = run(v.gpkg_shelters(tmp_path), catalog["shelters"], "x.gpkg")
    assert fmt == "gpkg" and report.accepted == len(source) == 84
    assert sum(f.properties["is_welfare"] for f in features) == sum(
        s["properties"]["共通ID"][12] == "2" for s in source
    )
    two = v.gpkg_shelters(tmp_path, second_layer=True)
    with pytest.raises(ImportRejected, match="shelters, emergency"):
        run(two, catalog["shelters"])
    _, chosen, _ = run(two, catalog["evacuation_sites"], layer="emergency")
    assert len(chosen) == len(v.gsi_features())


def test_geojson_feature_collection_single_feature_and_legacy_crs(catalog):
    data = (v.DEMO / "ksj" / "P29-21_27.geojson").read_bytes()
    _, _features, report = run(data, catalog["schools"])
    assert report.accepted == len(json.loads(data)["features"])
    single = json.dumps(json.loads(data)["features"][0]).encode()
    _, one, _ = run(single, catalog["schools"])
    assert len(one) == 1


def _gtfs_counts(name: str) -> tuple[int, int]:
    with zipfile.ZipFile(GTFS / name) as archive:
        stops = list(csv.DictReader(io.StringIO(archive.read("stops.txt").decode("utf-8-sig"))))
        routes = archive.read("routes.txt").decode("utf-8-sig").strip().splitlines()
    poles = sum(1 for s in stops if s.get("location_type", "") in ("", "0"))
    return poles, len(routes) - 1


@pytest.mark.parametrize(
    "name", ["403491_fureaibus_gtfs_20190401.zip", "GFTS_hekinan.zip", "city_oyabe_gtfs.zip"]
)
def test_gtfs_jp_feeds_give_stops_and_routes(catalog, name):
    data = (GTFS / name).read_bytes()
    poles, routes = _gtfs_counts(name)
    fmt, stops, report = run(data, catalog["bus_stops"], name, gtfs_table="stops")
    assert fmt == "gtfs" and report.accepted == len(stops) == poles and not report.errors
    assert all(s.properties["name"] and s.properties["operator"] for s in stops)
    assert any(s.properties["name_kana"] for s in stops)  # ja-Hrkt from the legacy translations
    _, lines, report = run(data, catalog["bus_routes"], name, gtfs_table="routes")
    assert report.accepted == len(lines) == routes
    assert all(line.geometry.geom_type == "MultiLineString" for line in lines)


def test_gtfs_routes_use_shapes_when_the_feed_has_them(catalog):
    _, lines, _ = run(
        (GTFS / "city_oyabe_gtfs.zip").read_bytes(), catalog["bus_routes"], gtfs_table="routes"
    )
    # shapes.txt has far more points than stops: the route follows the road.
    assert max(shapely.get_num_coordinates(line.geometry) for line in lines) > 100
    _, english, _ = run(
        (GTFS / "city_oyabe_gtfs.zip").read_bytes(), catalog["bus_stops"], gtfs_table="stops"
    )
    assert "Isurugi St. Kitaguchi" in {s.properties["name_en"] for s in english}


def test_gtfs_with_a_cp932_file_inside_a_utf8_feed(catalog):
    source = zipfile.ZipFile(GTFS / "403491_fureaibus_gtfs_20190401.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "trips.txt":  # as in Daito's real feed
                data = data.decode("utf-8-sig").encode("cp932")
            archive.writestr(item.filename, data)
    _, lines, report = run(buffer.getvalue(), catalog["bus_routes"], gtfs_table="routes")
    assert len(lines) == _gtfs_counts("403491_fureaibus_gtfs_20190401.zip")[1]
    assert any("trips.txt" in w.message_en for w in report.warnings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04", None),
        (b"SQLite format 3\x00rest", "gpkg"),
        (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">', "kml"),
        (b'  {"type": "FeatureCollection"}', "geojson"),
        ("名称,緯度,経度\n".encode(), "csv"),
    ],
)
def test_format_is_detected_from_content_not_the_name(data, expected):
    if expected is None:
        with pytest.raises(ImportRejected):
            detect_format(data, "looks.csv")
    else:
        assert detect_format(data, "misnamed.txt") == expected


def test_tokyo_datum_is_shifted_with_a_real_transformation(catalog):
    # Declared EPSG:4301: the Helmert shift moves Kishiwada's city hall ~400 m; never a 0 m ballpark.
    header, rows = ["名称", "緯度", "経度"], [["市役所", "34.45705", "135.37446"]]
    _, [feature], report = run(v.to_csv(header, rows), catalog["parks"], srid=4301)
    moved = shapely.Point(135.37446, 34.45705).distance(feature.geometry) * 100_000
    assert 300 < moved < 600
    # The report says which transformation moved them and how well (no TKY2JGD grid offline).
    [note] = [w for w in report.warnings if w.code == "tokyo_datum"]
    assert "Tokyo to WGS 84" in note.message_en and " m)" in note.message_en
    assert "旧日本測地系" in note.message_ja and note.value == "EPSG:4301"
    _, _, jgd = run(v.to_csv(header, rows), catalog["parks"], srid=6668)
    assert not [w for w in jgd.warnings if w.code == "tokyo_datum"]
