"""What every benchmark needs: a scratch database on the embedded cluster, timing, a table."""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import SecretStr
from sqlalchemy import Engine, make_url

from importers import Feature, ImportReport
from layers import load_catalog
from mapsvc.db.engine import (
    create_database,
    database_url,
    drop_database,
    make_engine,
    make_sessionmaker,
)
from mapsvc.embedded import EmbeddedCluster
from mapsvc.services.setup import upgrade_database
from mapsvc.services.versions import SourceFile, publish, stage
from mapsvc.settings import Settings


@contextmanager
def scratch_database() -> Iterator[tuple[Settings, Engine]]:
    """A seeded throwaway database on the configured server (the embedded cluster by default)."""
    base = Settings()
    cluster = None if base.database.url else EmbeddedCluster.from_settings(base.database)
    started = cluster.start() if cluster else False
    server = database_url(base.database)
    name = f"bench_{secrets.token_hex(3)}"
    create_database(server, name)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    settings = base.model_copy(
        update={"database": base.database.model_copy(update={"url": SecretStr(url), "name": name})}
    )
    engine = make_engine(url, settings.database)
    upgrade_database(engine, make_sessionmaker(engine), catalog=load_catalog(), settings=settings)
    try:
        yield settings, engine
    finally:
        engine.dispose()
        drop_database(server, name)
        if cluster and started:
            cluster.stop()


def publish_features(
    engine: Engine, *, layer_id: str, municipality_code: str, features: list[Feature]
) -> None:
    """Stage and publish synthetic ``features`` as one dataset's version (no file to read)."""
    with make_sessionmaker(engine)() as session, session.begin():
        version, _ = stage(
            session,
            layer_id=layer_id,
            municipality_code=municipality_code,
            source=SourceFile(f"synthetic {layer_id}".encode(), f"{layer_id}.geojson", "geojson"),
            features=features,
            report=ImportReport(),
            actor="bench",
        )
        publish(session, version.id, "bench")


def median_seconds(run: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain-text table."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))
