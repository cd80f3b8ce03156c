"""Property-based readers: generated and corrupted files of every format through the pipeline.

Whatever the bytes, reading either yields features or refuses the file with an ImportRejected
(which carries a bilingual message); any other exception would be a 500 at the upload endpoint.
The reports stay consistent: no more accepted features than rows, every row error numbered.
"""

import io
import json
import zipfile

import numpy as np
import openpyxl
import pyogrio.raw
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import ImportOptions, ImportRejected, ImportReport, read_records, to_features
from layers import load_catalog
from tests.support import variants as v
from tests.support.paths import TEST_DATA

# GDAL reports what it skips (a one-number position, an unknown type) as RuntimeWarnings; the
# pipeline then reports those rows itself.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
CATALOG = load_catalog()
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
HEADERS = [
    "名称",
    "緯度",
    "経度",
    "住所",
    "電話番号",
    "設置位置",
    "X",
    "Y",
    "ID",
    "備考",
    "lat",
    "lon",
]

cells = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    st.floats(min_value=34.3, max_value=34.6).map(str),
    st.floats(min_value=135.2, max_value=135.5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", "○", "×", "△", "有", "-", "0", "=1+1", "0x1F"]),
)
headers = st.one_of(
    st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=6)), min_size=1, max_size=6),
    # Half the time a header that reads as a point table, so rows reach the checks.
    st.lists(st.sampled_from(HEADERS), max_size=3).map(
        lambda extra: ["名称", "緯度", "経度", *extra]
    ),
)
tables = st.tuples(headers, st.lists(st.lists(cells, max_size=7), max_size=12))


def read(data: bytes, filename: str, layer: str = "aed", **options) -> None:
    """Read ``data`` to the end; only an ImportRejected may stop it."""
    report = ImportReport()
    chosen = ImportOptions(**options)
    try:
        _, records = read_records(data, filename, chosen, report=report)
        features = list(to_features(records, CATALOG[layer], report, options=chosen))
    except ImportRejected as rejected:
        issue = rejected.issue
    else:
        issue = None
    if issue is not None:
        assert issue.message_ja and issue.message_en
        return
    assert len(features) == report.accepted <= report.rows
    assert all(e.row is None or e.row >= 1 for e in report.errors)


@FUZZ
@given(table=tables, encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16"]))
def test_generated_csv(table, encoding):
    header, rows = table
    text = v.to_csv(header, rows, encoding="utf-8").decode()
    read(text.encode(encoding, "replace"), "aed.csv")


@FUZZ
@given(table=tables)
def test_generated_xlsx(table):
    header, rows = table
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        # Characters XML cannot hold cannot be in a real workbook either.
        sheet.append([openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("", c) for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    read(buffer.getvalue(), "aed.xlsx")


coordinate = st.one_of(
    st.floats(min_value=135.2, max_value=135.5),
    st.floats(allow_nan=False, allow_infinity=False),
)
positions = st.lists(coordinate, min_size=0, max_size=3)
geometries = st.one_of(
    st.builds(lambda c: {"type": "Point", "coordinates": c}, positions),
    st.builds(
        lambda cs: {"type": "LineString", "coordinates": cs}, st.lists(positions, max_size=4)
    ),
    st.builds(lambda cs: {"type": "Polygon", "coordinates": [cs]}, st.lists(positions, max_size=5)),
    st.just(None),
    st.just({"type": "GeometryCollection", "geometries": []}),
    st.builds(lambda t: {"type": t}, st.text(max_size=5)),
)
properties = st.dictionaries(st.sampled_from(HEADERS), cells, max_size=5)


@FUZZ
@given(
    features=st.lists(st.tuples(geometries, properties), max_size=8),
    crs=st.sampled_from([None, "EPSG:6674", "urn:ogc:def:crs:EPSG::99999", "x"]),
    layer=st.sampled_from(["aed", "flood_hazard", "bus_routes"]),
)
def test_generated_geojson(features, crs, layer):
    document = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    read(json.dumps(document, ensure_ascii=False).encode(), "data.geojson", layer=layer)


@FUZZ
@given(
    points=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=6),
    names=st.lists(cells, min_size=6, max_size=6),
)
def test_generated_geopackage(tmp_path_factory, points, names):
    path = tmp_path_factory.mktemp("gpkg") / "aed.gpkg"
    pyogrio.raw.write(
        str(path),
        geometry=np.array(shapely.to_wkb([shapely.Point(p) for p in points]), dtype=object),
        field_data=[np.array(names[: len(points)], dtype=object)],
        fields=["名称"],
        crs="EPSG:4326",
        driver="GPKG",
        geometry_type="Point",
        layer="aed",
    )
    read(path.read_bytes(), "aed.gpkg")


def _samples() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(v.excel_camelcase("xlsx"))) as archive:
        assert archive.namelist()  # a real workbook to corrupt
    return {
        "aed.csv": v.aed_standard_csv(),
        "aed.xlsx": v.excel_camelcase("xlsx"),
        "aed.xls": v.excel_camelcase("xls"),
        "aed.ods": v.excel_camelcase("ods"),
        "aed.geojson": (TEST_DATA / "viewer" / "hostile_aed.geojson").read_bytes(),
        "feed.zip": next((TEST_DATA / "gtfs").glob("*.zip")).read_bytes(),
    }


SAMPLES = _samples()


@pytest.mark.parametrize("name", sorted(SAMPLES))
@FUZZ
@given(data=st.data())
def test_corrupted_real_files(name, data):
    original = SAMPLES[name]
    if zipfile.is_zipfile(io.BytesIO(original)) and data.draw(st.booleans()):
        # Damage inside one member and zip it again: the reader behind the zip sees it.
        with zipfile.ZipFile(io.BytesIO(original)) as archive:
            members = {i.filename: archive.read(i) for i in archive.infolist()}
        target = data.draw(st.sampled_from(sorted(n for n, body in members.items() if body)))
        members[target] = damaged(members[target], data)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, body in members.items():
                archive.writestr(member, body)
        corrupted = buffer.getvalue()
    else:
        corrupted = damaged(original, data)
    layer = "bus_stops" if name == "feed.zip" else "aed"
    read(corrupted, name, layer=layer, gtfs_table="stops")


def damaged(original: bytes, data) -> bytes:
    """A few bytes changed, inserted or dropped; sometimes the end cut off."""
    body = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body) - 1))
        how = data.draw(st.sampled_from(["set", "insert", "drop"]))
        if how == "set":
            body[at] = data.draw(st.integers(0, 255))
        elif how == "insert":
            body[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del body[at : at + data.draw(st.integers(1, 16))]
    if data.draw(st.integers(0, 4)) == 0:
        del body[data.draw(st.integers(1, max(1, len(body) - 1))) :]
    return bytes(body)
