"""Import throughput: mapsvc's upload path against GDAL's ogr2ogr into the same PostGIS.

Both load the same files into the same database in the same run. mapsvc does more: it maps
columns to the catalog, validates every row and geometry, writes a report, keeps the original
bytes and maintains the live (version, geometry) index. Run: `make bench`.
"""

from __future__ import annotations

import io
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely
from sqlalchemy import Engine

from bench.common import median_seconds, print_table, scratch_database
from layers import load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.uploads import UploadRequest, upload
from mapsvc.services.versions import SourceFile
from mapsvc.settings import Settings


def point_csv(path: Path, rows: int = 100_000) -> Path:
    """100,000 points in Kishiwada, as a municipality's CSV (name, lat, lon, detail)."""
    lines = ["ID,名称,緯度,経度,設置位置"]
    lines += [
        f"A{i},施設{i},{34.44 + (i % 300) * 0.0001:.6f},{135.36 + (i // 300) * 0.0001:.6f},1階"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def polygon_shapefile(folder: Path, polygons: int = 2_000, vertices: int = 500) -> Path:
    """Flood-zone-like polygons (wobbly rings, 1M vertices in all) in zone VI, zipped with .prj."""
    rng = np.random.default_rng(7)
    shapes = []
    for i in range(polygons):
        # A 50 × 40 grid over central Kishiwada (city hall: easting -55.8 km, northing -167.9 km).
        cx, cy = -56_000 + (i % 50) * 130, -172_000 + (i // 50) * 130
        angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
        radius = 55 + rng.uniform(-5, 5, vertices)
        ring = np.column_stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)])
        shapes.append(shapely.Polygon(ring))
    fields = [
        np.array([str(1 + i % 6) for i in range(polygons)], dtype=object),
        np.array(["大津川"] * polygons, dtype=object),
    ]
    folder.mkdir(exist_ok=True)
    pyogrio.raw.write(
        str(folder / "flood.shp"),
        np.array(shapely.to_wkb(shapes), dtype=object),
        fields,
        ["A31a_205", "A31a_202"],
        driver="ESRI Shapefile",
        geometry_type="Polygon",
        crs="EPSG:6674",
        encoding="cp932",
    )
    archive = folder.parent / "flood.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for part in folder.iterdir():
            out.write(part, part.name)
    return archive


def _unique_bytes(path: Path, run: int) -> bytes:
    """The file's content made unique per run: identical bytes would return the existing version."""
    if path.suffix == ".csv":
        return path.read_bytes() + b"\n" * run  # blank lines are skipped
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for item in source.infolist():
            copy.writestr(item, source.read(item))
        copy.comment = f"run {run}".encode()
    return buffer.getvalue()


class Ours:
    """mapsvc's upload path, in process: read, validate, stage, commit.

    Each run's file is made unique beforehand (recompressing the zip took 0.9 s, which is the
    bench's work, not the upload's).
    """

    def __init__(
        self, settings: Settings, engine: Engine, path: Path, layer: str, code: str, runs: int
    ) -> None:
        self.settings, self.engine, self.path, self.layer, self.code = (
            settings,
            engine,
            path,
            layer,
            code,
        )
        self.contents = [_unique_bytes(path, run) for run in range(1, runs + 1)]

    def __call__(self) -> None:
        with make_sessionmaker(self.engine)() as session:
            upload(
                session,
                self.settings,
                layer=load_catalog()[self.layer],
                municipality=self.code,
                source=SourceFile(self.contents.pop(), self.path.name, "auto"),
                request=UploadRequest(),
                actor="bench",
            )


def peak_mib(run: Callable[[], object]) -> float:
    """The Python heap's peak during one run (tracemalloc; it slows the run, so it is not timed)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def cpu_split(run: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of one run: (this process, the rest of the machine — here, PostgreSQL).

    Where the upload's time goes: when the two together fill both cores for the whole run, a
    faster Python side alone cannot make the upload faster.
    """

    def machine_busy() -> float:
        with open("/proc/stat") as stat:  # Linux: the first line sums every core
            ticks = [int(t) for t in stat.readline().split()[1:]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait

    busy, mine = machine_busy(), time.process_time()
    run()
    mine = time.process_time() - mine
    return mine, machine_busy() - busy - mine


def ogr2ogr(settings: Settings, source: str, table: str, *options: str) -> None:
    url = settings.database.url.get_secret_value().replace("postgresql+psycopg://", "")
    credentials, location = url.split("@")
    user, password = credentials.split(":")
    host_port, database = location.split("/")
    host, port = host_port.split(":")
    target = f"PG:host={host} port={port} user={user} password={password} dbname={database}"
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            target,
            source,
            "-nln",
            table,
            "-overwrite",
            "-lco",
            "GEOMETRY_NAME=geom",
            *options,
        ],
        check=True,
        capture_output=True,
    )


RUNS = 3  # timed; each case runs twice more, for its heap peak and its CPU split


def main() -> None:
    """Print the import table."""
    if shutil.which("ogr2ogr") is None:
        raise SystemExit("ogr2ogr not found: run ./scripts/setup.sh (it installs gdal-bin)")
    with tempfile.TemporaryDirectory() as directory, scratch_database() as (settings, engine):
        folder = Path(directory)
        csv = point_csv(folder / "points.csv")
        shp = polygon_shapefile(folder / "shp")
        cases = [
            (
                "100,000-point CSV",
                100_000,
                Ours(settings, engine, csv, "aed", "272027", RUNS + 2),
                lambda: ogr2ogr(
                    settings,
                    str(csv),
                    "ogr_points",
                    "-oo",
                    "X_POSSIBLE_NAMES=経度",
                    "-oo",
                    "Y_POSSIBLE_NAMES=緯度",
                    "-a_srs",
                    "EPSG:4326",
                ),
            ),
            (
                "2,000-polygon Shapefile (1M vertices, zone VI)",
                2_000,
                Ours(
                    settings, engine, shp, "flood_hazard", "270008", RUNS + 2
                ),  # prefecture-wide, as flood zones are
                lambda: ogr2ogr(
                    settings,
                    f"/vsizip/{shp}",
                    "ogr_polygons",
                    "-t_srs",
                    "EPSG:4326",
                    "-nlt",
                    "MULTIPOLYGON",
                ),
            ),
        ]
        rows = []
        for name, count, run_ours, run_ogr in cases:
            mine = median_seconds(run_ours, RUNS)
            theirs = median_seconds(run_ogr, RUNS)
            peak = peak_mib(run_ours)
            python, rest = cpu_split(run_ours)
            rows.append(
                [
                    name,
                    f"{mine:.2f} s",
                    f"{count / mine:,.0f}/s",
                    f"{theirs:.2f} s",
                    f"{count / theirs:,.0f}/s",
                    f"{theirs / mine:.2f}×",
                    f"{peak:.0f} MiB",
                    f"{python:.2f} / {rest:.2f} s",
                ]
            )
    print_table(
        f"Import throughput (median of {RUNS}; {platform.node()}, {platform.processor() or platform.machine()})",
        [
            "case",
            "mapsvc",
            "rows/s",
            "ogr2ogr",
            "rows/s",
            "speed vs ogr2ogr",
            "mapsvc peak heap",
            "CPU: Python / PostgreSQL",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
