"""Test fixtures in the exact layout of KSJ hazard zips (synthetic geometry, never demo data).

A31a (洪水浸水想定区域, 河川単位, 2023-24): one zip per prefecture, a folder per scenario
(10_計画規模, 20_想定最大規模, 30_浸水継続時間, 41_/42_家屋倒壊等氾濫想定区域), written on Windows:
backslash separators and CP932 member names without the UTF-8 flag, CP932 .dbf without .cpg,
JGD2011 (EPSG:6668) .prj. Fields: A31a_x01 河川ID, _x02 河川名, _x03 都道府県コード, _x04 都道府県名,
_x05 浸水深ランク (x = 1 計画規模, 2 想定最大規模; 3 浸水継続時間, _305 its duration class); the 家屋倒壊等氾濫想定区域 folders have A31a_401
河川ID and _402 河川名 and no rank (the zone itself is the hazard).

A33 (土砂災害警戒区域, 2025) and A49 (高潮浸水想定区域): one GeoJSON per prefecture in a folder of
the zip, UTF-8, with the legacy ``crs`` member naming JGD2011. A33_001 現象の種類 (1 急傾斜地の崩壊,
2 土石流, 3 地すべり), _002 区域区分 (1 警戒, 2 特別警戒, 3/4 the same before designation), _003
都道府県コード, _004 区域番号, _005 区域名, _006 所在地, _007 公示日, _008 特別警戒未指定フラグ;
A49_001 都道府県名, _002 都道府県コード, _003 浸水深の区分 (text, like A40_003).

Those field lists are what KSJ's code lists (CodeOfPhenomenon, CodeOfZoneH27) and public readers of
the real files agree on; the product specification pages themselves were not reachable here.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

OTORI_RIVER = ("2700050001", "男里川")  # a prefecture river in 泉南市/阪南市


def _zone(x: float, y: float, size: float = 0.004) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def a31a_zip(tmp: Path) -> bytes:
    """A31a-24_27_10_SHP.zip's layout with two scenario folders, three depth zones in each."""
    zones = [_zone(135.25 + i * 0.005, 34.36) for i in range(3)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder, scale in (
            ("10_計画規模", 1),
            ("20_想定最大規模", 2),
            ("30_浸水継続時間", 3),
            ("41_家屋倒壊等氾濫想定区域_氾濫流", 4),
        ):
            stem = f"A31a-24_27_{folder[:2]}_{OTORI_RIVER[0]}"
            out = tmp / folder
            out.mkdir(parents=True, exist_ok=True)
            values = [OTORI_RIVER[0], OTORI_RIVER[1], "27", "大阪府"]
            fields = [f"A31a_{scale}0{i}" for i in range(1, 5 if scale == 4 else 6)]
            data = [np.array([v] * 3, dtype=object) for v in values]
            if scale != 4:  # a house-collapse zone has no depth rank
                data.append(np.array([str(rank) for rank in (1, 2, 2 + scale)], dtype=object))
            pyogrio.raw.write(
                str(out / f"{stem}.shp"),
                np.array(shapely.to_wkb(zones), dtype=object),
                data,
                fields,
                driver="ESRI Shapefile",
                geometry_type="Polygon",
                crs="EPSG:6668",
                encoding="cp932",
            )
            (out / f"{stem}.cpg").unlink(missing_ok=True)  # KSJ ships none: CP932 is implied
            for part in sorted(out.iterdir()):
                windows_name = f"A31a-24_27_10_SHP\\{folder}\\{part.name}"
                info = zipfile.ZipInfo(windows_name.encode("cp932").decode("cp437"))
                archive.writestr(info, part.read_bytes())
    return buffer.getvalue()


A40_DEPTHS = ("0.3m未満", "0.3m以上1.0m未満", "1.0m以上2.0m未満", "2.0m以上5.0m未満")


def a40_zip(tmp: Path) -> bytes:
    """A40 (津波浸水想定, 第1.1版): one prefecture's zones, a polygon per depth class.

    Fields A40_001 都道府県名, A40_002 都道府県コード (integer), A40_003 津波浸水深の区分 (the
    prefecture's own wording); a CP932 .dbf without .cpg, JGD2011 geographic.
    """
    out = tmp / "A40-16_27"
    out.mkdir(parents=True, exist_ok=True)
    zones = [
        _zone(135.43 + i * 0.004, 34.61, 0.003) for i in range(len(A40_DEPTHS))
    ]  # 住之江区 coast
    count = len(zones)
    pyogrio.raw.write(
        str(out / "A40-16_27.shp"),
        np.array(shapely.to_wkb(zones), dtype=object),
        [
            np.array(["大阪府"] * count, dtype=object),
            np.array([27] * count, dtype=np.int32),
            np.array(A40_DEPTHS, dtype=object),
        ],
        ["A40_001", "A40_002", "A40_003"],
        driver="ESRI Shapefile",
        geometry_type="Polygon",
        crs="EPSG:6668",
        encoding="cp932",
    )
    (out / "A40-16_27.cpg").unlink(missing_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted(out.iterdir()):
            archive.writestr(f"A40-16_27\\{part.name}", part.read_bytes())
    return buffer.getvalue()


def _geojson_zip(folder: str, features: list[tuple[shapely.Polygon, dict[str, object]]]) -> bytes:
    collection = {
        "type": "FeatureCollection",
        "name": folder.removesuffix("_GEOJSON"),
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6668"}},
        "features": [
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(zone)}
            for zone, props in features
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        name = f"{folder}/{folder.removesuffix('_GEOJSON')}.geojson"
        archive.writestr(name, json.dumps(collection, ensure_ascii=False))
    return buffer.getvalue()


# (A33_001 現象の種類, A33_002 区域区分) for each zone, on the slopes above 千早赤阪村
A33_ZONES = (("1", "1"), ("1", "2"), ("2", "1"), ("3", "4"))


def a33_zip() -> bytes:
    """A33-25_27_GEOJSON.zip's layout: four zones, one of them published before designation."""
    features = []
    for i, (phenomenon, zone_class) in enumerate(A33_ZONES):
        props = {
            "A33_001": int(phenomenon),
            "A33_002": int(zone_class),
            "A33_003": "27",
            "A33_004": f"27383-{i + 1:04d}",
            "A33_005": f"水分{i + 1}",
            "A33_006": "南河内郡千早赤阪村大字水分",
            "A33_007": "2019/03/29",
            "A33_008": 0 if zone_class != "1" else 1,
        }
        features.append((_zone(135.61 + i * 0.004, 34.47, 0.003), props))
    return _geojson_zip("A33-25_27_GEOJSON", features)


A49_DEPTHS = ("0.3m未満", "0.3m以上0.5m未満", "1m以上3m未満", "3m以上5m未満")


def a49_zip() -> bytes:
    """A49's layout (高潮浸水想定区域, per prefecture): a polygon per depth class on 住之江区's coast."""
    features = [
        (
            _zone(135.43 + i * 0.004, 34.60, 0.003),
            {"A49_001": "大阪府", "A49_002": "27", "A49_003": depth},
        )
        for i, depth in enumerate(A49_DEPTHS)
    ]
    return _geojson_zip("A49-20_27_GEOJSON", features)
