import json
import math

import pytest
import shapely

from importers import (
    ImportOptions,
    ImportRejected,
    ImportReport,
    RawRecord,
    read_geojson,
    to_features,
)
from importers.cells import CellError, convert, to_flag, to_integer, to_url
from importers.columns import match_columns
from importers.geometry import GeometryError, check_finite, conform
from importers.tabular import Table, records_from_table
from layers import GeometryType, load_catalog


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1", True),
        ("○", True),
        ("有", True),
        ("TRUE", True),
        ("１", True),
        (1, True),
        ("", False),
        (None, False),
        ("×", False),
        ("-", False),
        ("−", False),
        ("0", False),
        ("△", "conditional"),
    ],
)
def test_flags_are_normalised(cell, expected):
    assert to_flag(cell) == expected


def test_an_unknown_flag_is_an_error_that_says_what_to_write():
    with pytest.raises(CellError) as caught:
        to_flag("maybe")
    assert "○" in caught.value.message_ja and "blank" in caught.value.message_en


def test_numbers_accept_full_width_digits_and_refuse_nan():
    assert to_integer("１，２００") == 1200
    assert to_integer("") is None
    for bad in ("NaN", "inf", "1.5", "abc"):
        with pytest.raises(CellError):
            to_integer(bad)


def test_urls_must_be_http_or_https():
    assert to_url("https://example.jp/a") == "https://example.jp/a"
    with pytest.raises(CellError):
        to_url("javascript:alert(1)")


def test_enum_cells_accept_codes_numbers_and_labels(catalog):
    school_class = catalog["schools"].attribute("school_class")
    assert convert(school_class, 16001) == "16001"
    assert convert(school_class, "小学校") == "16001"
    with pytest.raises(CellError, match="16001"):
        convert(school_class, "塾")


def test_headers_match_aliases_whatever_their_width_spacing_or_prefix(catalog):
    layer = catalog["evacuation_sites"]
    matched = match_columns(
        ["ＮＯ", "施設・場所名", "住所 ", "災害種別_洪水", "施設_電話番号", "独自列"], layer
    )
    assert {h: a.name for h, a in matched.items()} == {
        "ＮＯ": "source_no",
        "施設・場所名": "name",
        "住所 ": "address",
        "災害種別_洪水": "flood",
        "施設_電話番号": "phone",
    }


def test_geometry_rules():
    with pytest.raises(GeometryError, match="no location"):
        check_finite(shapely.Point())
    with pytest.raises(GeometryError, match="NaN"):
        check_finite(shapely.Point(math.nan, 34.0))
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    with pytest.raises(GeometryError, match="invalid"):
        conform(bowtie, GeometryType.POLYGON, repair=False)
    repaired, was_repaired = conform(bowtie, GeometryType.POLYGON, repair=True)
    assert was_repaired and repaired.is_valid and repaired.geom_type == "MultiPolygon"
    with pytest.raises(GeometryError, match="Point"):
        conform(shapely.LineString([(0, 0), (1, 1)]), GeometryType.POINT, repair=True)
    clockwise = shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)])
    polygon, _ = conform(clockwise, GeometryType.POLYGON, repair=False)
    assert polygon.geom_type == "MultiPolygon" and polygon.geoms[0].exterior.is_ccw


def test_legacy_crs_member_is_read_and_coordinates_stay_lon_lat():
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6668"}},
            "features": [
                {
                    "type": "Feature",
                    "properties": {"名称": "x"},
                    "geometry": {"type": "Point", "coordinates": [135.5, 34.7]},
                }
            ],
        }
    ).encode()
    [record] = read_geojson(data)
    assert record.srid == 6668
    assert (record.geometry.x, record.geometry.y) == (135.5, 34.7)


def test_plane_rectangular_coordinates_are_reprojected(catalog):
    # Kishiwada in JGD2011 / zone VI (EPSG:6674): easting -55,809 m, northing -167,908 m from
    # the origin 36°N 136°E, i.e. about 0.608° west (at 34.5°N) and 1.515° south.
    record = RawRecord(1, shapely.Point(-55809.0, -167908.0), {"名称": "岸和田"}, srid=6674)
    report = ImportReport()
    [feature] = to_features([record], catalog["parks"], report)
    assert feature.geometry.x == pytest.approx(135.392, abs=0.002)
    assert feature.geometry.y == pytest.approx(34.485, abs=0.002)


@pytest.mark.parametrize("data", [b"", b"not json", b"<html></html>", b'{"type": "Feature"'])
def test_what_is_not_geojson_is_rejected_with_a_reason(data):
    with pytest.raises(ImportRejected) as caught:
        list(read_geojson(data))
    assert caught.value.issue.message_ja and caught.value.issue.message_en


def test_bad_rows_are_reported_with_row_column_and_value(catalog):
    records = [
        RawRecord(1, shapely.Point(135.5, 34.7), {"名称": "ok", "洪水": "1"}),
        RawRecord(2, shapely.Point(135.5, 34.7), {"名称": "bad flag", "洪水": "たぶん"}),
        RawRecord(3, None, {"名称": "no location"}),
    ]
    report = ImportReport()
    features = list(to_features(records, catalog["evacuation_sites"], report))
    assert [f.properties["name"] for f in features] == ["ok"]
    assert (report.rows, report.accepted, report.rejected) == (3, 1, 2)
    flag_error = report.errors[0]
    assert (flag_error.row, flag_error.column, flag_error.value) == (2, "洪水", "たぶん")
    assert report.errors[1].row == 3 and report.errors[1].code == "empty_geometry"


def test_unknown_columns_are_kept_and_welfare_shelters_derived_from_the_common_id(catalog):
    records = [
        RawRecord(
            1,
            shapely.Point(135.39, 34.48),
            {"共通ID": "E2720200004121", "施設・場所名": "a", "独自": 5},
        ),
        RawRecord(
            2,
            shapely.Point(135.39, 34.48),
            {"共通ID": "E2720200001111", "施設・場所名": "b", "独自": 6},
        ),
    ]
    features = list(to_features(records, catalog["shelters"], ImportReport()))
    assert [f.properties["is_welfare"] for f in features] == [True, False]
    assert features[0].properties["独自"] == 5
    assert features[0].source_id == "E2720200004121"
    assert features[0].__geo_interface__["geometry"]["type"] == "Point"


def test_coordinate_cells_are_read_as_numbers_or_named_as_their_problem():
    """Text and numbers read alike (full-width digits and spaces too); anything else is named."""
    rows = [
        (2, ["市役所", "34.46", "135.37"]),  # text, as in a CSV
        (3, ["消防署", 34.47, 135.38]),  # numbers, as in a spreadsheet
        (4, ["公民館", "３４．４８", " 135.39 "]),  # full-width digits, spaces
        (5, ["図書館", "1,234", "135.37"]),  # a thousands separator: not degrees
        (6, ["体育館", True, 135.37]),  # a spreadsheet's TRUE is no coordinate
        (7, ["病院", "nan", "135.37"]),
        (8, ["学校", "135.37", "34.46"]),  # swapped
        (9, ["公園", "34.46"]),  # a short row
    ]
    table = Table(["名称", "緯度", "経度"], rows)
    records = list(records_from_table(table, ImportOptions(), ImportReport()))
    assert [(r.row, r.xy) for r in records if r.error is None] == [
        (2, (135.37, 34.46)),
        (3, (135.38, 34.47)),
        (4, (135.39, 34.48)),
    ]
    errors = {r.row: r.error.code for r in records if r.error is not None}
    assert errors == {
        5: "not_degrees",
        6: "unreadable_coordinates",
        7: "unreadable_coordinates",
        8: "swapped_coordinates",
        9: "missing_coordinates",
    }
    assert all(
        r.properties == {"名称": name} for r, (_, (name, *_)) in zip(records, rows, strict=True)
    )


def test_a_geojson_id_used_twice_with_a_decimal_property_is_a_row_error_not_a_crash():
    """GDAL hands numbers over as numpy scalars, which the duplicate check could not digest."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [135.37, 34.46 + i / 1000]},
            "properties": {"ID": "A1", "名称": "市役所", "lat": 34.46 + i / 1000},
        }
        for i in range(2)
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    report = ImportReport()
    read = list(to_features(read_geojson(data), load_catalog()["aed"], report))
    assert [f.properties["lat"] for f in read] == [34.46]
    assert type(read[0].properties["lat"]) is float
    assert [e.code for e in report.errors] == ["duplicate_id"]
