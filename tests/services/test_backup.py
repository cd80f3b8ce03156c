"""The restore drill: back up a service, restore it into a fresh cluster, compare everything."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from layers import load_catalog
from mapsvc.db.engine import make_sessionmaker
from mapsvc.embedded import EmbeddedCluster
from mapsvc.errors import Conflict
from mapsvc.services import accounts, backup, uploads
from mapsvc.services.versions import SourceFile
from mapsvc.settings import DatabaseSettings, Settings
from tests.support.cli import run_mapsvc
from tests.support.portal import aed_csv

pytestmark = pytest.mark.db

FINGERPRINTS = {
    "published features": "SELECT d.layer_id, d.municipality_code, count(*), md5(string_agg("
    "f.feature_key || f.properties::text || encode(ST_AsEWKB(f.geom), 'hex'), '|' ORDER BY f.id)) "
    "FROM dataset d JOIN feature f ON f.version_id = d.current_version_id GROUP BY 1, 2 ORDER BY 1, 2",
    "versions": "SELECT id, dataset_id, source_sha256, status, feature_count, options::text "
    "FROM version ORDER BY id",
    "original files": "SELECT sha256, md5(content) FROM source_file ORDER BY 1",
    "audit": "SELECT id, actor, action, result FROM audit_log ORDER BY id",
    "accounts": "SELECT login, password_hash, disabled_at FROM staff_user ORDER BY login",
    "keys": "SELECT prefix, digest FROM api_key ORDER BY prefix",
}


def fingerprint(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            name: [tuple(r) for r in connection.execute(text(sql))]
            for name, sql in FINGERPRINTS.items()
        }


def test_a_backup_restored_into_a_fresh_cluster_has_every_dataset_version_and_account(scratch):
    settings, engine = scratch
    catalog = load_catalog()
    with make_sessionmaker(engine)() as session:
        for rows, publish in (
            ([("市役所AED", "34.4603", "135.3716")], True),
            ([("市役所AED", "34.4603", "135.3716"), ("岸和田城AED", "34.4597", "135.3680")], False),
        ):
            uploads.upload(
                session,
                settings,
                layer=catalog["aed"],
                municipality="272027",
                source=SourceFile(aed_csv(rows), "aed.csv", "auto"),
                request=uploads.UploadRequest(publish=publish),
                actor="test",
            )
        accounts.invite(
            session,
            settings,
            login="staff@city.kishiwada.lg.jp",
            display_name="岸和田",
            roles={"272027": "editor"},
            actor="test",
            link_for=lambda token: token,
        )
        session.commit()
    source = fingerprint(engine)
    assert len(source["published features"]) == 2 and len(source["versions"]) == 3  # + boundaries

    drill = Path(tempfile.mkdtemp(prefix="mapsvc-restore-", dir="/tmp"))
    drill.chmod(0o755)  # the cluster's OS user must reach it
    archive = drill / "mapsvc.dump"
    made = run_mapsvc("backup", str(archive), settings=settings)
    assert made.returncode == 0, made.stderr
    fresh = Settings(database=DatabaseSettings(embedded_dir=drill / "state", name="restored"))
    cluster = EmbeddedCluster.from_settings(fresh.database)
    cluster.start()
    try:
        backup.restore(fresh, archive)
        restored = create_engine(cluster.url("restored"))
        assert fingerprint(restored) == source
        with pytest.raises(Conflict):  # never over data, unless asked
            backup.restore(fresh, archive)
        backup.restore(fresh, archive, replace=True)
        assert fingerprint(restored) == source
        restored.dispose()
    finally:
        cluster.stop()
        shutil.rmtree(drill, ignore_errors=True)
