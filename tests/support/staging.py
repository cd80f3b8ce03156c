"""Stage small AED versions of a municipality (in the caller's transaction) for tests."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, text

from importers import ImportReport, read_geojson, to_features
from layers import Catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.db.models import VersionRow
from mapsvc.services.keys import create_key
from mapsvc.services.session import Session
from mapsvc.services.versions import SourceFile, stage
from tests.support.server import LIVE_SECRET

KISHIWADA = "272027"


def aed_file(names: list[str]) -> SourceFile:
    """A GeoJSON file of AEDs named ``names``, a metre or so apart near Kishiwada city hall."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [135.37 + i / 1000, 34.46]},
            "properties": {"名称": name, "電話番号": "072-423-2121"},
        }
        for i, name in enumerate(names)
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return SourceFile(body.encode(), "aed.geojson", "geojson")


def stage_aed(
    session: Session, catalog: Catalog, source: SourceFile, code: str = KISHIWADA
) -> tuple[VersionRow, bool]:
    """``source`` read and staged as a version of the municipality's AED dataset."""
    report = ImportReport()
    features = list(to_features(read_geojson(source.content), catalog["aed"], report))
    return stage(
        session,
        layer_id="aed",
        municipality_code=code,
        source=source,
        features=features,
        report=report,
        actor="test",
    )


def published_count(session: Session, layer_id: str) -> int:
    """How many features of the layer readers see: what a test compares against the API."""
    statement = text("SELECT count(*) FROM published_feature WHERE layer_id = :layer")
    return int(session.execute(statement, {"layer": layer_id}).scalar_one())


def municipality_count(session: Session) -> int:
    """How many municipalities and wards (and the prefecture) the seed loaded."""
    return int(session.execute(text("SELECT count(*) FROM municipality")).scalar_one())


def committed_key(
    engine: Engine,
    label: str,
    *,
    secret: bytes = LIVE_SECRET.encode(),
    code: str = KISHIWADA,
    role: str = "publisher",
) -> str:
    """A committed key of ``code`` (a live server's by default), for clients over HTTP."""
    with make_sessionmaker(engine)() as session:
        key, _ = create_key(
            session, secret, municipality_code=code, role=role, label=label, actor="test"
        )
        session.commit()
    return key


def upload(
    client: Any,
    key: str | None,
    url: str = f"/api/datasets/aed/{KISHIWADA}",
    data: bytes = b"",
    name: str = "aed.csv",
    **form: object,
) -> Any:
    """POST ``data`` as a new version of the dataset at ``url`` (form fields as an editor types)."""
    return client.post(
        f"{url}/versions",
        files={"file": (name, data)},
        data={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()},
        headers={"Authorization": f"Bearer {key}"} if key else {},
    )
