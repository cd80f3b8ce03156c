"""`mapsvc import` and the version commands, run as staff would run them (on a scratch database)."""

import json
import os
import subprocess
import sys

import pytest

from tests.support import variants as v
from tests.support.cli import run_mapsvc

pytestmark = pytest.mark.db


def mapsvc(settings, *args: str):
    return run_mapsvc(*args, settings=settings)


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "避難場所.csv"
    good.write_bytes(v.gsi_csv_cp932())
    header, rows = v.gsi_csv_rows(v.gsi_features())
    rows[3][-3] = "北緯34度"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(v.to_csv(header, rows))
    changed = tmp_path / "changed.csv"
    changed.write_bytes(v.to_csv(header, rows[:3] + rows[4:]))
    return good, bad, changed


def test_import_json_publish_versions_diff_rollback(scratch, files):
    settings, _ = scratch
    good, bad, changed = files
    common = ["--layer", "evacuation_sites", "--municipality", "272027"]
    result = mapsvc(settings, "import", str(good), *common, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("rows", "accepted", "rejected")} == {
        "rows": 73,
        "accepted": 73,
        "rejected": 0,
    }
    assert report["errors"] == [] and report["version_id"]
    first = report["version_id"]

    rejected = mapsvc(settings, "import", str(bad), *common, "--json")
    assert rejected.returncode == 1
    body = json.loads(rejected.stdout)
    assert body["version_id"] is None
    [error] = body["errors"]
    assert error["row"] == 5 and error["value"] and error["message_ja"] and error["message_en"]

    readable = mapsvc(settings, "import", str(bad), *common)
    assert readable.returncode == 1
    assert "行 row 5" in readable.stdout and "The coordinates are not numbers" in readable.stdout

    assert mapsvc(settings, "publish", *common, str(first)).returncode == 0
    second = json.loads(
        mapsvc(settings, "import", str(changed), *common, "--json", "--publish").stdout
    )["version_id"]
    listed = mapsvc(settings, "versions", "list", *common).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [
        [str(second), "published"],
        [str(first), "retired"],
    ]
    diff = json.loads(mapsvc(settings, "diff", *common, str(first), str(second), "--json").stdout)
    assert diff["counts"]["removed"] == 1 and diff["counts"]["added"] == 0
    assert mapsvc(settings, "rollback", *common, "--to", str(first)).returncode == 0
    shown = json.loads(mapsvc(settings, "versions", "show", *common, str(first), "--json").stdout)
    assert shown["status"] == "published" and shown["report"]["accepted"] == 73


def test_dry_run_writes_nothing_and_needs_no_municipality(scratch, files):
    settings, engine = scratch
    good, bad, _ = files
    ok = mapsvc(settings, "import", str(good), "--layer", "evacuation_sites", "--dry-run", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["accepted"] == 73
    assert (
        mapsvc(settings, "import", str(bad), "--layer", "evacuation_sites", "--dry-run").returncode
        == 1
    )
    with engine.connect() as conn:
        from sqlalchemy import text

        assert (
            conn.execute(text("SELECT count(*) FROM version")).scalar_one() == 1
        )  # the boundary layer only


@pytest.mark.parametrize(
    "crs",
    [
        "4301",
        "EPSG:4301",
        "urn:ogc:def:crs:EPSG::4301",
        "http://www.opengis.net/def/crs/EPSG/0/4301",
    ],
)
def test_crs_is_accepted_in_every_form_people_write(tmp_path, crs):
    data = tmp_path / "aed.csv"
    data.write_bytes(v.to_csv(["名称", "緯度", "経度"], [["市役所", "34.45705", "135.37446"]]))
    result = run_mapsvc("import", str(data), "--layer", "aed", "--crs", crs, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["accepted"] == 1
    assert [w["value"] for w in report["warnings"] if w["code"] == "tokyo_datum"] == ["EPSG:4301"]


def test_an_unknown_crs_is_refused_with_its_name(tmp_path):
    data = tmp_path / "aed.csv"
    data.write_bytes(v.to_csv(["名称", "緯度", "経度"], [["市役所", "34.45705", "135.37446"]]))
    result = run_mapsvc("import", str(data), "--layer", "aed", "--crs", "EPSG:99999", "--dry-run")
    assert result.returncode == 1
    assert "EPSG:99999" in result.stderr and "座標系" in result.stderr


def test_preview_writes_a_map_without_a_database(tmp_path, files):
    good, _, _ = files
    output = tmp_path / "preview.html"
    env = dict(os.environ, MAPSVC_DATABASE__URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mapsvc",
            "preview",
            str(good),
            "--layer",
            "evacuation_sites",
            "-o",
            str(output),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    html = output.read_text("utf-8")
    assert "L.map(" in html and "73 / 73" in html
    assert json.dumps("大芝小学校")[1:-1] in html  # folium embeds the data as JSON
    assert "node_modules/leaflet/dist/leaflet.js" in html


def test_keys_are_shown_once_listed_by_prefix_and_revocable(scratch):
    settings, engine = scratch
    created = mapsvc(
        settings,
        "keys",
        "create",
        "--municipality",
        "272027",
        "--role",
        "editor",
        "--label",
        "防災課",
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[0]
    prefix = "_".join(key.split("_")[:2])
    assert key.startswith("msk_") and len(key) > 40
    listed = mapsvc(settings, "keys", "list").stdout
    assert prefix in listed and key not in listed and "防災課" in listed
    with engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(
            text("SELECT digest FROM api_key WHERE prefix = :p"), {"p": prefix}
        ).scalar_one()
        assert key not in stored and len(stored) == 64
        actions = (
            conn.execute(text("SELECT action FROM audit_log WHERE action LIKE 'key_%'"))
            .scalars()
            .all()
        )
    assert mapsvc(settings, "keys", "revoke", prefix).returncode == 0
    assert "revoked" in mapsvc(settings, "keys", "list").stdout
    assert actions == ["key_create"]
    admin_elsewhere = mapsvc(
        settings, "keys", "create", "--municipality", "272027", "--role", "admin"
    )
    assert admin_elsewhere.returncode == 1 and "prefecture" in admin_elsewhere.stderr
