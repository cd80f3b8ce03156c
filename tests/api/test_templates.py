"""Each layer's blank template (issue 25 item 16): the Digital Agency standard headers and one
example row, as CSV and Excel; filled in and uploaded, it imports with no column mapping."""

from __future__ import annotations

import io

import openpyxl
import pytest

from layers import load_catalog
from layers.templates import has_template
from mapsvc.services import uploads
from mapsvc.services.uploads import UploadRequest
from mapsvc.services.versions import SourceFile

pytestmark = pytest.mark.db

KISHIWADA = "272027"
TEMPLATED = sorted(layer.id for layer in load_catalog().values() if has_template(layer))


def test_every_point_layer_has_a_template():
    points = {x.id for x in load_catalog().values() if x.geometry_type.value == "point"}
    assert set(TEMPLATED) == points and len(points) == 13


def read_template(content: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        assert content.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 only with its BOM
        return [line.split(",") for line in content.decode("utf-8-sig").splitlines()]
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [[str(c) for c in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("layer_id", TEMPLATED)
def test_a_filled_in_template_imports_with_no_mapping_at_all(
    client, session, test_settings, layer_id, fmt
):
    layer = load_catalog()[layer_id]
    answer = client.get(f"/api/collections/{layer_id}/template.{fmt}?municipality={KISHIWADA}")
    assert answer.status_code == 200, answer.text
    assert f'filename="template-{layer_id}.{fmt}"' in answer.headers["content-disposition"]
    headers, example = read_template(answer.content, fmt)
    standard = [a.standard_header for a in layer.attributes if a.standard_header]
    assert [h for h in headers if h not in ("緯度", "経度")] == standard
    assert len(example) == len(headers)

    reading = uploads.read(
        session,
        test_settings,
        layer=layer,
        source=SourceFile(answer.content, f"template.{fmt}", "auto"),
        request=UploadRequest(),  # no columns option: the headers are the aliases
        municipality=KISHIWADA,
    )
    [feature] = list(reading.features)
    assert reading.report.errors == []
    # Every column became its attribute (none kept under a header of its own), with its value.
    named = {a.name for a in layer.attributes if a.standard_header}
    assert set(feature.properties) - set(layer.derive) >= named
    assert set(feature.properties) <= {a.name for a in layer.attributes}
    assert (
        feature.properties[layer.name_attribute]
        == example[headers.index(layer.attribute(layer.name_attribute).standard_header or "")]
    )


def test_the_example_sits_in_the_municipality_asked_for_and_by_default_in_the_prefecture(client):
    def position(query: str) -> tuple[float, float]:
        rows = read_template(client.get(f"/api/collections/aed/template.csv{query}").content, "csv")
        return float(rows[1][rows[0].index("経度")]), float(rows[1][rows[0].index("緯度")])

    sakai, prefecture = position("?municipality=271403"), position("")
    assert sakai != prefecture
    assert 135.3 < sakai[0] < 135.6 and 34.4 < sakai[1] < 34.7


def test_layers_of_areas_and_bad_municipalities_are_told_why(client):
    area = client.get("/api/collections/flood_hazard/template.csv")
    assert area.status_code == 404
    assert "記入用の表がありません" in area.json()["message_ja"]
    assert "has no template" in area.json()["message_en"]
    wrong = client.get("/api/collections/aed/template.csv?municipality=abc")
    assert wrong.status_code == 400 and "municipality" in wrong.text
    unknown = client.get("/api/collections/aed/template.xlsx?color=red")
    assert unknown.status_code == 400
