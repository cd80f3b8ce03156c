"""Read-path benchmark: mapsvc against tipg serving the same PostGIS data in the same run.

Also times the bare SQL from Python (the floor). Each case runs the same requests against each
server, one keep-alive client, sequentially, the servers taking turns (25 requests each, eight
rounds); we report requests/s, p50 and p99. mapsvc runs
twice: as deployed (its response cache on: repeated requests are served from memory until
something is published) and with the cache off (every request queries PostGIS, as tipg does).
Run: `make bench` (or `python -m bench.api`).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import numpy as np
import shapely
from sqlalchemy import Engine, text

from bench.common import print_table, publish_features, scratch_database
from importers import Feature
from layers import load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.services.demo import load_demo
from mapsvc.settings import Settings
from tests.support.server import live_server, uvicorn_server

TIPG = Path(__file__).parents[1] / ".venv-bench-tipg" / "bin" / "python"
REQUESTS = 200


def flood_polygons(count: int = 120, vertices: int = 8_000) -> list[Feature]:
    """Flood-zone-like polygons over Osaka: wobbly rings of ``vertices`` points, 2-6 km across."""
    rng = np.random.default_rng(3)
    features = []
    for i in range(count):
        cx, cy = 135.25 + (i % 12) * 0.045, 34.40 + (i // 12) * 0.05
        angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
        radius = 0.015 + 0.004 * np.sin(angles * 7) + rng.uniform(-0.0004, 0.0004, vertices)
        ring = np.column_stack([cx + radius * np.cos(angles) * 1.2, cy + radius * np.sin(angles)])
        polygon = shapely.make_valid(shapely.Polygon(ring))
        polygon = max(getattr(polygon, "geoms", [polygon]), key=lambda g: g.area)
        features.append(
            Feature(
                i + 1,
                f"Z{i}",
                shapely.MultiPolygon([polygon]),
                {"depth_class": str(1 + i % 6), "river_name": "合成河川"},
                f"Z{i}",
            )
        )
    return features


def prepare(settings: Settings, engine: Engine) -> None:
    """Demo data, a synthetic flood layer, and flat copies of both for tipg (schema ``bench``)."""
    sessions = make_sessionmaker(engine)
    load_demo(sessions, load_catalog(), settings.demo_manifest, settings)
    publish_features(
        engine, layer_id="flood_hazard", municipality_code="270008", features=flood_polygons()
    )
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA bench"))
        for layer, kind in (("evacuation_sites", "Point"), ("flood_hazard", "MultiPolygon")):
            conn.execute(
                text(
                    f"CREATE TABLE bench.{layer} AS SELECT id, feature_key, municipality_code, properties, "  # noqa: S608
                    f"geom::geometry({kind}, 4326) AS geom FROM published_feature WHERE layer_id = '{layer}'"
                )
            )
            conn.execute(text(f"ALTER TABLE bench.{layer} ADD PRIMARY KEY (id)"))
            conn.execute(text(f"CREATE INDEX ON bench.{layer} USING gist (geom)"))
            conn.execute(text(f"ANALYZE bench.{layer}"))


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int(
        (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    )


def measure(run: Callable[[], object], requests: int = REQUESTS) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``requests`` sequential calls after a warm-up."""
    return measure_side_by_side({"run": run}, requests, rounds=1)["run"]


def measure_side_by_side(
    runs: dict[str, Callable[[], object]], requests: int = REQUESTS, rounds: int = 8
) -> dict[str, tuple[float, float, float]]:
    """``measure`` for several servers taking turns, ``requests / rounds`` calls at a time.

    This machine's speed drifts by up to 2× within minutes: measured one after the other, two
    servers were compared under different conditions; taking turns, a drift slows them alike.
    """
    for run in runs.values():
        for _ in range(5):
            run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    spent = dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            for _ in range(requests // rounds):
                t = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - t) * 1000)
            spent[name] += time.perf_counter() - start
    results = {}
    for name, taken in times.items():
        taken.sort()
        p99 = taken[int(len(taken) * 0.99) - 1]
        results[name] = (len(taken) / spent[name], statistics.median(taken), p99)
    return results


def get(client: httpx.Client, url: str, **params: object) -> Callable[[], object]:
    def call() -> object:
        response = client.get(url, params=params)  # type: ignore[arg-type]
        if response.status_code not in (200, 204, 304):
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
        return response.content

    return call


def tipg_server(database_url: str) -> AbstractContextManager[str]:
    """Tipg on the ``bench`` schema, in its own venv."""
    env = {
        "DATABASE_URL": database_url.replace("+psycopg", ""),
        "TIPG_DB_SCHEMAS": '["bench"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    return uvicorn_server(str(TIPG), ["tipg.main:app"], env, "/collections")


def main() -> None:
    """Print the read-path table."""
    if not TIPG.exists():
        raise SystemExit("tipg is not installed: run `make bench` (it creates .venv-bench-tipg)")
    with scratch_database() as (settings, engine):
        prepare(settings, engine)
        url = settings.database.url.get_secret_value()  # type: ignore[union-attr]
        with (
            tipg_server(url) as tipg,
            live_server(url) as cached,
            live_server(url, MAPSVC_API__RESPONSE_CACHE_MB="0") as uncached,
            httpx.Client(timeout=30) as client,
        ):
            rows = run_cases(client, {"cached": cached, "uncached": uncached}, tipg, engine)
    for variant, title in (
        ("cached", "mapsvc as deployed (response cache on)"),
        ("uncached", "mapsvc with the response cache off (every request queries PostGIS)"),
    ):
        print_table(
            f"Read path: {title} vs tipg 1.6.1 ({REQUESTS} sequential requests per case, "
            "1 worker each)",
            [
                "case",
                "mapsvc req/s",
                "p50 ms",
                "p99 ms",
                "tipg req/s",
                "p50 ms",
                "p99 ms",
                "speed-up",
                "floor p50 ms",
                "mapsvc/floor",
            ],
            rows[variant],
        )


def run_cases(
    client: httpx.Client, servers: dict[str, str], tipg: str, engine: Engine
) -> dict[str, list[list[str]]]:
    """Each case against tipg and every mapsvc variant taking turns, and the floor."""
    cases = {variant: _cases(client, ours, tipg) for variant, ours in servers.items()}
    rows: dict[str, list[list[str]]] = {variant: [] for variant in servers}
    for index, (name, _, theirs, where) in enumerate(next(iter(cases.values()))):
        runs = {"tipg": theirs} | {variant: cases[variant][index][1] for variant in servers}
        measured = measure_side_by_side(runs)
        floor = floor_p50(engine, where) if where else None
        t = measured["tipg"]
        for variant in servers:
            m = measured[variant]
            rows[variant].append(
                [
                    name,
                    f"{m[0]:,.0f}",
                    f"{m[1]:.1f}",
                    f"{m[2]:.1f}",
                    f"{t[0]:,.0f}",
                    f"{t[1]:.1f}",
                    f"{t[2]:.1f}",
                    f"{m[0] / t[0]:.1f}×",
                    "" if floor is None else f"{floor:.1f}",
                    "" if floor is None else f"{m[1] / floor:.2f}×",
                ]
            )
    return rows


Case = tuple[str, Callable[[], object], Callable[[], object], str | None]


def _cases(client: httpx.Client, ours: str, tipg: str) -> list[Case]:
    """(name, our request, tipg's request, the floor's WHERE clause) per case."""
    small = "135.375,34.455,135.395,34.470"  # central Kishiwada: ~20 evacuation sites
    large = "135.45,34.60,135.60,34.72"  # central Osaka: well over 1,000
    polygons = "135.25,34.40,135.80,34.90"
    z8, z6, z12 = tile_xy(135.5, 34.65, 8), tile_xy(135.5, 34.65, 6), tile_xy(135.30, 34.42, 12)
    etag = client.get(
        f"{ours}/api/collections/evacuation_sites/items", params={"bbox": small}
    ).headers["etag"]
    cases = [
        (
            "items: ~20 points",
            get(client, f"{ours}/api/collections/evacuation_sites/items", bbox=small, limit=100),
            get(client, f"{tipg}/collections/bench.evacuation_sites/items", bbox=small, limit=100),
            f"WHERE layer_id = 'evacuation_sites' AND geom && ST_MakeEnvelope({small}, 4326) LIMIT 100",
        ),
        (
            "items: 1,000 points",
            get(client, f"{ours}/api/collections/evacuation_sites/items", bbox=large, limit=1000),
            get(client, f"{tipg}/collections/bench.evacuation_sites/items", bbox=large, limit=1000),
            f"WHERE layer_id = 'evacuation_sites' AND geom && ST_MakeEnvelope({large}, 4326) LIMIT 1000",
        ),
        (
            "items: 10 polygons × 8,000 vertices",
            get(client, f"{ours}/api/collections/flood_hazard/items", bbox=polygons, limit=10),
            get(client, f"{tipg}/collections/bench.flood_hazard/items", bbox=polygons, limit=10),
            f"WHERE layer_id = 'flood_hazard' AND geom && ST_MakeEnvelope({polygons}, 4326) LIMIT 10",
        ),
        (
            "tile: dense points z8",
            get(
                client,
                f"{ours}/api/collections/evacuation_sites/tiles/WebMercatorQuad/8/{z8[1]}/{z8[0]}",
            ),
            get(
                client,
                f"{tipg}/collections/bench.evacuation_sites/tiles/WebMercatorQuad/8/{z8[0]}/{z8[1]}",
            ),
            None,
        ),
    ]
    for z, (x, y) in ((6, z6), (8, z8), (12, z12)):
        cases.append(
            (
                f"tile: big polygons z{z}",
                get(
                    client, f"{ours}/api/collections/flood_hazard/tiles/WebMercatorQuad/{z}/{y}/{x}"
                ),
                get(
                    client,
                    f"{tipg}/collections/bench.flood_hazard/tiles/WebMercatorQuad/{z}/{x}/{y}",
                ),
                None,
            )
        )

    def revalidate() -> object:
        response = client.get(
            f"{ours}/api/collections/evacuation_sites/items",
            params={"bbox": small},
            headers={"If-None-Match": etag},
        )
        if response.status_code != 304:
            raise RuntimeError(f"expected 304, got {response.status_code}")
        return response

    cases.append(
        (
            "304 revalidation (tipg: full 200)",
            revalidate,
            get(client, f"{tipg}/collections/bench.evacuation_sites/items", bbox=small),
            None,
        )
    )
    return cases


def floor_p50(engine: Engine, where: str) -> float:
    """The bare query from Python: the same rows as GeoJSON text, fetched, nothing else."""
    statement = text(
        "SELECT municipality_code || '-' || feature_key, ST_AsGeoJSON(geom, 6), properties::text "  # noqa: S608
        f"FROM published_feature {where}"
    )
    with engine.connect() as conn:
        return measure(lambda: conn.execute(statement).all())[1]


if __name__ == "__main__":
    sys.exit(main())
