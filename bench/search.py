"""Search benchmark: /api/search on 100,000 features, with the trigram index and without it.

The peer is the same query, same data, same run, after ``DROP INDEX ix_feature_search`` (a
sequential scan of the stored folded text). The response cache
is off, so every request queries PostGIS. Run: `make bench` (or `python -m bench.search`).
"""

from __future__ import annotations

import itertools

import httpx
import numpy as np
import shapely
from sqlalchemy import text

from bench.api import get, measure
from bench.common import print_table, publish_features, scratch_database
from importers import Feature
from tests.support.server import live_server

FEATURES = 100_000
SAMPLES = 30  # requests per case: p50 of 30 is steady, and the scans stay short
PLACES = [
    ("梅田", "ウメダ"),
    ("難波", "ナンバ"),
    ("天王寺", "テンノウジ"),
    ("京橋", "キョウバシ"),
    ("十三", "ジュウソウ"),
    ("岸和田", "キシワダ"),
    ("堺東", "サカイヒガシ"),
    ("千里", "センリ"),
    ("枚方", "ヒラカタ"),
    ("茨木", "イバラキ"),
    ("高槻", "タカツキ"),
    ("八尾", "ヤオ"),
]
KINDS = [
    ("小学校", "ショウガッコウ"),
    ("公民館", "コウミンカン"),
    ("体育館", "タイイクカン"),
    ("図書館", "トショカン"),
    ("保育園", "ホイクエン"),
    ("クリニック", "クリニック"),
    ("コミュニティセンター", "コミュニティセンター"),
]
QUERIES = [
    ("梅田公民館 (kanji, 5 chars)", "梅田公民館"),
    ("てんのうじとしょ (hiragana → reading)", "てんのうじとしょ"),
    ("コミュニティ (katakana, many hits)", "コミュニティ"),
    ("大阪市北区梅田1-4 (address)", "大阪市北区梅田1-4"),
    ("梅田 (2 chars: no trigram to use)", "梅田"),
]


def named_points(count: int = FEATURES) -> list[Feature]:
    """``count`` AEDs over Osaka with names, readings and addresses (a large city's inventory)."""
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(135.30, 135.65, count), rng.uniform(34.40, 34.85, count)
    points = shapely.points(xs, ys)
    combos = itertools.cycle(itertools.product(PLACES, KINDS))
    features = []
    for i, ((place, place_kana), (kind, kind_kana)) in zip(range(count), combos, strict=False):
        properties = {
            "name": f"{place}{kind}{i // 84 + 1}",
            "name_kana": f"{place_kana}{kind_kana}",
            "address": f"大阪市北区{place}{i % 9 + 1}-{i % 97 + 1}",
        }
        features.append(Feature(i + 2, f"B{i}", points[i], properties, f"B{i}"))
    return features


def main() -> None:
    """Print the search table."""
    with scratch_database() as (settings, engine):
        publish_features(
            engine, layer_id="aed", municipality_code="271004", features=named_points()
        )
        with engine.begin() as conn:
            conn.execute(text("ANALYZE feature"))
        url = settings.database.url.get_secret_value()  # type: ignore[union-attr]
        rows = []
        with (
            live_server(url, MAPSVC_API__RESPONSE_CACHE_MB="0") as base,
            httpx.Client(timeout=60) as client,
        ):
            indexed = {
                q: measure(get(client, f"{base}/api/search", q=q, limit=20)) for _, q in QUERIES
            }
            with engine.begin() as conn:
                conn.execute(text("DROP INDEX ix_feature_search"))
            scanned = {
                q: measure(get(client, f"{base}/api/search", q=q, limit=20), requests=20)
                for _, q in QUERIES
            }
        for name, q in QUERIES:
            with_index, without = indexed[q][1], scanned[q][1]
            rows.append(
                [name, f"{with_index:.1f}", f"{without:.1f}", f"{without / with_index:.1f}×"]
            )
    print_table(
        f"Search: /api/search p50 on {FEATURES:,} features (response cache off)",
        ["query", "trigram index ms", "scan ms", "speed-up"],
        rows,
    )


if __name__ == "__main__":
    main()
