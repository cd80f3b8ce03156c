"""Small files that cost far more than their size to read: what an upload must bound."""

from __future__ import annotations

import io
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_XLSX_PARTS = {
    "[Content_Types].xml": f'''<Types xmlns="{_PKG}/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>''',
    "_rels/.rels": f'''<Relationships xmlns="{_PKG}/relationships">
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>''',
    "xl/workbook.xml": f'''<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>
<sheet name="AED" sheetId="1" r:id="rId1"/></sheets></workbook>''',
    "xl/_rels/workbook.xml.rels": f'''<Relationships xmlns="{_PKG}/relationships">
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>''',
    "xl/worksheets/sheet1.xml": f'''<worksheet xmlns="{_MAIN}"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>
<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2"><v>34.46</v></c><c r="C2"><v>135.37</v></c></row>
</sheetData></worksheet>''',
}


def xlsx_with_shared_strings(count: int) -> bytes:
    """A valid one-sheet .xlsx whose shared-string table holds ``count`` strings (~140 KB/10^6)."""
    used = "".join(f"<si><t>{t}</t></si>" for t in ("名称", "緯度", "経度", "市役所"))
    # Distinct strings: a repeated one compresses so well that the zip-bomb check refuses it.
    filler = "".join(f"<si><t>{i}</t></si>" for i in range(count - 4)).encode()
    table = f'<sst xmlns="{_MAIN}">{used}'.encode() + filler + b"</sst>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in _XLSX_PARTS.items():
            z.writestr(name, body)
        z.writestr("xl/sharedStrings.xml", table)
    return out.getvalue()


def gpkg_with_recursive_view(rows: int) -> bytes:
    """A GeoPackage whose only layer is a view generating ``rows`` points from one real row."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bomb.gpkg"
        pyogrio.raw.write(
            str(path),
            geometry=shapely.to_wkb([shapely.Point(135.37, 34.46)]),
            field_data=[np.array(["市役所"], dtype=object)],
            fields=["name"],
            crs="EPSG:4326",
            driver="GPKG",
            geometry_type="Point",
            layer="seed",
        )
        with sqlite3.connect(path) as db:
            db.execute(
                f"CREATE VIEW aed AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                f"SELECT i + 1 FROM n WHERE i < {rows}) SELECT i AS fid, seed.geom, seed.name "
                "FROM n, seed"
            )
            db.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                "VALUES ('aed', 'features', 'aed', 4326)"
            )
            db.execute(
                "INSERT INTO gpkg_geometry_columns VALUES ('aed', 'geom', 'POINT', 4326, 0, 0)"
            )
            db.execute("DELETE FROM gpkg_contents WHERE table_name = 'seed'")
            db.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'seed'")
        return path.read_bytes()


def gtfs_with_stop_times(count: int) -> bytes:
    """A one-stop GTFS feed whose stop_times.txt has ``count`` rows (~5 MB zipped per 10^6)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("agency.txt", "agency_id,agency_name\n1,岸和田市\n")
        z.writestr("stops.txt", "stop_id,stop_name,stop_lat,stop_lon\ns1,市役所前,34.46,135.37\n")
        z.writestr("routes.txt", "route_id,agency_id,route_long_name\nr1,1,市役所線\n")
        z.writestr("trips.txt", "route_id,service_id,trip_id\nr1,w,t1\n")
        lines = "".join(f"t{i % 1000},08:00:00,08:00:00,s1,{i}\n" for i in range(count))
        z.writestr(
            "stop_times.txt", "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + lines
        )
    return out.getvalue()


def gpkg_points(count: int) -> bytes:
    """A plain GeoPackage table of ``count`` AED points near Kishiwada city hall."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "many.gpkg"
        points = [
            shapely.Point(135.36 + i % 100 * 1e-4, 34.44 + i // 100 * 1e-4) for i in range(count)
        ]
        pyogrio.raw.write(
            str(path),
            geometry=np.array(shapely.to_wkb(points), dtype=object),
            field_data=[np.array([f"AED{i}" for i in range(count)], dtype=object)],
            fields=["名称"],
            crs="EPSG:4326",
            driver="GPKG",
            geometry_type="Point",
            layer="aed",
        )
        return path.read_bytes()
