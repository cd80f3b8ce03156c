"""Awkward variants of the real demo files, as municipalities really send them.

Each builder reads the bundled real data (data/demo) for one municipality and writes it the way a
staff member's tools would: Excel's Shift_JIS CSV with CRLF, UTF-8 with BOM, UTF-16 TSV, an Excel
workbook with English headers and ○/× marks, X/Y in plane-rectangular zone VI, a Shapefile zip
with .prj and a CP932 .dbf (no .cpg), KML, GeoPackage.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import openpyxl
import pyogrio.raw
import shapely
import xlwt
from pyproj import Transformer

from tests.support.paths import DEMO

KISHIWADA = "272027"
HAZARDS = [
    "洪水",
    "崖崩れ、土石流及び地滑り",
    "高潮",
    "地震",
    "津波",
    "大規模な火事",
    "内水氾濫",
    "火山現象",
]
HAZARDS_EN = [
    "flood",
    "landslide",
    "stormSurge",
    "earthquake",
    "tsunami",
    "fire",
    "inlandFlooding",
    "volcano",
]


def gsi_features(kind: str = "emergency", code: str = KISHIWADA) -> list[dict]:
    """The real GSI features of one municipality (kind: emergency or evacuation)."""
    return json.loads((DEMO / "gsi_shelters" / kind / f"{code}.json").read_text("utf-8"))[
        "features"
    ]


def ksj_features(name: str, code5: str = "27202") -> list[dict]:
    """Real KSJ features (P29 schools or P05 facilities) of one municipality."""
    path = DEMO / "ksj" / name
    key = "P29_001" if name.startswith("P29") else "P05_001"
    return [
        f for f in json.loads(path.read_text("utf-8"))["features"] if f["properties"][key] == code5
    ]


def gsi_csv_rows(features: list[dict]) -> tuple[list[str], list[list[str]]]:
    """GSI's per-municipality emergency-site CSV columns, with 緯度/経度 at the end."""
    header = [
        "NO",
        "共通ID",
        "施設・場所名",
        "住所",
        *HAZARDS,
        "指定避難所との住所同一",
        "緯度",
        "経度",
        "備考",
    ]
    rows = []
    for f in features:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        rows.append(
            [
                str(p["NO"]),
                p["共通ID"],
                p["施設・場所名"],
                p["住所"],
                *[p[h] for h in HAZARDS],
                p["指定避難所との住所同一"],
                f"{lat}",
                f"{lon}",
                p["備考"],
            ]
        )
    return header, rows


def to_csv(
    header: list[str],
    rows: list[list[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\n",
) -> bytes:
    """Delimited text in an encoding (cp932, utf-8-sig, utf-16 …) with a line ending."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def gsi_csv_cp932() -> bytes:
    """The GSI CSV as Excel saves "CSV (comma delimited)": CP932 with CRLF."""
    return to_csv(*gsi_csv_rows(gsi_features()), encoding="cp932", newline="\r\n")


def plane_rectangular_csv(survey_order: bool = True) -> bytes:
    """Emergency sites with X/Y in JGD2011 zone VI metres (X = northing when ``survey_order``)."""
    to_plane = Transformer.from_crs(4326, 6674, always_xy=True)
    header = [
        "名称",
        "住所",
        "X座標" if survey_order else "POINT_X",
        "Y座標" if survey_order else "POINT_Y",
        "地震",
    ]
    rows = []
    for f in gsi_features():
        easting, northing = to_plane.transform(*f["geometry"]["coordinates"])
        first, second = (northing, easting) if survey_order else (easting, northing)
        rows.append(
            [
                f["properties"]["施設・場所名"],
                f["properties"]["住所"],
                f"{first:.3f}",
                f"{second:.3f}",
                f["properties"]["地震"],
            ]
        )
    return to_csv(header, rows, encoding="utf-8-sig")


def _camelcase_rows() -> list[list[object]]:
    """GSI's Kishiwada sites with English camelCase headers and ○/×/△ marks (as Takamatsu publishes)."""
    rows: list[list[object]] = [["No", "name", "address", "latitude", "longitude", *HAZARDS_EN]]
    for index, f in enumerate(gsi_features(), start=1):
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        marks = ["○" if p[h] == "1" else "×" for h in HAZARDS]
        marks[-1] = "△" if index == 1 else marks[-1]
        rows.append([index, p["施設・場所名"], p["住所"], lat, lon, *marks])
    return rows


NOTE_SHEET = ("メモ", [["このシートは説明です"]])


def excel_camelcase(kind: str = "xlsx", *, title: str | None = None) -> bytes:
    """The camelCase sheet as Excel (.xlsx), old Excel (.xls) or OpenDocument (.ods) saves it.

    ``title``: a line above the header, as many municipal sheets have; then a note sheet.
    """
    rows = ([[title], []] if title else []) + _camelcase_rows()
    sheets = [("避難場所", rows), NOTE_SHEET]
    return {"xlsx": xlsx_workbook, "xls": _xls, "ods": _ods}[kind](sheets)


def xlsx_workbook(sheets: list[tuple[str, list[list[object]]]]) -> bytes:
    """An .xlsx with these sheets (name, rows), in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets:
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xls(sheets: list[tuple[str, list[list[object]]]]) -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets:
        sheet = workbook.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _ods(sheets: list[tuple[str, list[list[object]]]]) -> bytes:
    """A minimal OpenDocument spreadsheet, as LibreOffice lays one out."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )

    def cell(value: object) -> str:
        if isinstance(value, int | float):
            return f'<table:table-cell office:value-type="float" office:value="{value}"/>'
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'

    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join(
            "<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
            if row
            else "<table:table-row><table:table-cell/></table:table-row>"
            for row in rows
        )
        + "</table:table>"
        for name, rows in sheets
    )
    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2"><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>'
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _write_ogr(
    path: Path,
    features: list[dict],
    driver: str,
    *,
    srid: int = 4326,
    encoding: str | None = None,
    layer: str | None = None,
    append: bool = False,
) -> None:
    to_target = Transformer.from_crs(4326, srid, always_xy=True)
    geometries = [
        shapely.transform(
            shapely.geometry.shape(f["geometry"]),
            lambda xy: np.column_stack(to_target.transform(xy[:, 0], xy[:, 1])),
        )
        for f in features
    ]
    fields = list(features[0]["properties"])
    data = [np.array([str(f["properties"][k]) for f in features], dtype=object) for k in fields]
    pyogrio.raw.write(
        str(path),
        np.array(shapely.to_wkb(geometries), dtype=object),
        data,
        fields,
        driver=driver,
        geometry_type=geometries[0].geom_type,
        crs=f"EPSG:{srid}",
        encoding=encoding,
        layer=layer,
        append=append,
    )


def shapefile_zip_zone6(tmp: Path) -> bytes:
    """Kishiwada's public facilities as a zipped Shapefile in zone VI with .prj, CP932 .dbf, no .cpg."""
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    _write_ogr(
        folder / "公共施設.shp",
        ksj_features("P05-22_27.geojson"),
        "ESRI Shapefile",
        srid=6674,
        encoding="cp932",
    )
    (folder / "公共施設.cpg").unlink(missing_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted(folder.iterdir()):
            # Windows zips store CP932 names without the UTF-8 flag, as here.
            info = zipfile.ZipInfo(part.name.encode("cp932").decode("cp437"))
            archive.writestr(info, part.read_bytes())
    return buffer.getvalue()


def kml_schools(tmp: Path) -> bytes:
    """Kishiwada's schools as KML (as exported from a web map)."""
    path = tmp / "schools.kml"
    features = [
        {
            "geometry": f["geometry"],
            "properties": {
                "Name": f["properties"]["P29_004"],
                "所在地": f["properties"]["P29_005"],
            },
        }
        for f in ksj_features("P29-21_27.geojson")
    ]
    _write_ogr(path, features, "KML")
    return path.read_bytes()


def gpkg_shelters(tmp: Path, *, second_layer: bool = False) -> bytes:
    """Kishiwada's shelters as a GeoPackage (optionally with a second layer to choose from)."""
    path = tmp / ("two.gpkg" if second_layer else "one.gpkg")
    path.unlink(missing_ok=True)
    _write_ogr(path, gsi_features("evacuation"), "GPKG", layer="shelters")
    if second_layer:
        _write_ogr(path, gsi_features("emergency"), "GPKG", layer="emergency", append=True)
    return path.read_bytes()


def aed_standard_csv(code: str = KISHIWADA, *, old_schema: bool = False) -> bytes:
    """An AED list in the Digital Agency's 自治体標準オープンデータセット (or older 推奨) columns,
    placed at Kishiwada's real public facilities."""
    facilities = ksj_features("P05-22_27.geojson")[:20]
    if old_schema:
        header = [
            "都道府県コード又は市区町村コード",
            "NO",
            "都道府県名",
            "市区町村名",
            "名称",
            "名称_カナ",
            "住所",
            "方書",
            "緯度",
            "経度",
            "設置位置",
            "電話番号",
            "内線番号",
            "法人番号",
            "団体名",
            "利用可能曜日",
            "開始時間",
            "終了時間",
            "利用可能日時特記事項",
            "小児対応設備の有無",
            "URL",
            "備考",
        ]
    else:
        header = [
            "全国地方公共団体コード",
            "ID",
            "地方公共団体名",
            "名称",
            "名称_カナ",
            "名称_英字",
            "所在地_全国地方公共団体コード",
            "町字ID",
            "所在地_連結表記",
            "所在地_都道府県",
            "所在地_市区町村",
            "緯度",
            "経度",
            "設置位置",
            "電話番号",
            "利用可能曜日",
            "開始時間",
            "終了時間",
            "小児対応設備の有無",
            "URL",
            "備考",
        ]
    rows = []
    for index, f in enumerate(facilities, start=1):
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        if old_schema:
            rows.append(
                [
                    code,
                    str(index),
                    "大阪府",
                    "岸和田市",
                    p["P05_003"],
                    "",
                    p["P05_004"],
                    "",
                    str(lat),
                    str(lon),
                    "1階ロビー",
                    "072-423-2121",
                    "",
                    "",
                    "岸和田市",
                    "月火水木金",
                    "09:00",
                    "17:00",
                    "",
                    "有" if index % 2 else "無",
                    "https://www.city.kishiwada.lg.jp/",
                    "",
                ]
            )
        else:
            rows.append(
                [
                    code[1:]
                    if index == 1
                    else code,  # Excel dropped nothing here, but 5 digits happen
                    f"{code}-AED-{index:04d}",
                    "岸和田市",
                    p["P05_003"],
                    "",
                    "",
                    code,
                    "",
                    f"大阪府{p['P05_004']}",
                    "大阪府",
                    "岸和田市",
                    str(lat),
                    str(lon),
                    "1階ロビー",
                    "０７２－４２３－２１２１",
                    "月火水木金",
                    "09:00",
                    "17:00",
                    "○" if index % 2 else "×",
                    "https://www.city.kishiwada.lg.jp/",
                    "",
                ]
            )
    return to_csv(header, rows, encoding="utf-8-sig")
