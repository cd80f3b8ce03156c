"""The `mapsvc` command, run as a user would run it."""

import pytest

from tests.support.cli import run_mapsvc as run
from tests.support.server import free_port
from tests.support.staging import municipality_count

pytestmark = pytest.mark.db


def test_help_documents_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "db", "demo", "municipalities", "layers"):
        assert command in result.stdout
    db_help = run("db", "--help").stdout
    for action in ("start", "stop", "status", "upgrade"):
        assert action in db_help


def test_layers_list_prints_the_catalog(catalog):
    result = run("layers", "list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(catalog)
    assert (
        "evacuation_sites\tdisaster\tpoint\t指定緊急避難場所\tDesignated emergency evacuation sites"
        in lines
    )


def test_municipalities_list_and_db_status_against_a_database(test_settings, demo, session):
    result = run("municipalities", "list", settings=test_settings)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == municipality_count(session) > 40
    assert "272027\tcity\t岸和田市\tKishiwada-shi\t270008" in lines
    status = run("db", "status", settings=test_settings)
    revision = status.stdout.split("schema revision: ")[1].split()[0]
    assert f"schema revision: {revision} (newest: {revision})" in status.stdout


def test_upgrade_and_demo_load_are_idempotent(test_settings, demo):
    assert run("db", "upgrade", settings=test_settings).returncode == 0
    result = run("demo", "load", settings=test_settings)
    assert result.returncode == 0, result.stderr
    assert "0 files loaded, 101 already loaded" in result.stdout


def test_an_unknown_command_fails_with_usage():
    result = run("frobnicate")
    assert result.returncode == 2
    assert "usage: mapsvc" in result.stderr


def test_the_first_admin_is_made_with_the_cli_and_its_link_opens_the_portal(scratch):
    settings, _ = scratch
    made = run(
        "users",
        "create",
        "Admin@Pref.Osaka.lg.jp",
        "--municipality",
        "270008",
        "--role",
        "admin",
        "--name",
        "府 デジタル推進課",
        settings=settings,
    )
    assert made.returncode == 0, made.stderr
    link = made.stdout.splitlines()[0]
    assert link.startswith("http://127.0.0.1:8000/staff/setup/") and "一回限り" in made.stdout
    elsewhere = {"MAPSVC_PORT": "8123"}  # the link follows the port the server was given
    other = run(
        "users",
        "create",
        "p@pref.osaka.lg.jp",
        "--municipality",
        "272027",
        "--role",
        "viewer",
        settings=settings,
        env=elsewhere,
    )
    assert other.stdout.startswith("http://127.0.0.1:8123/staff/setup/"), other.stderr
    public = {"MAPSVC_PUBLIC_URL": "https://map.pref.example.jp"}
    again = run("users", "reset", "p@pref.osaka.lg.jp", settings=settings, env=public)
    assert again.stdout.startswith("https://map.pref.example.jp/staff/setup/"), again.stderr
    listed = run("users", "list", settings=settings).stdout
    assert "admin@pref.osaka.lg.jp\tinvited\t270008:admin\t府 デジタル推進課" in listed
    twice = run(
        "users",
        "create",
        "admin@pref.osaka.lg.jp",
        "--municipality",
        "270008",
        "--role",
        "admin",
        settings=settings,
    )
    assert twice.returncode != 0 and "already taken" in twice.stderr
    ward = run(
        "users", "create", "kita@city.osaka.lg.jp", "--municipality", "271276", settings=settings
    )
    assert ward.returncode != 0 and "not a ward" in ward.stderr
    reset = run(
        "users",
        "reset",
        "admin@pref.osaka.lg.jp",
        "--url",
        "https://map.example.jp",
        settings=settings,
    )
    assert reset.stdout.startswith("https://map.example.jp/staff/setup/")
    last = run("users", "disable", "admin@pref.osaka.lg.jp", settings=settings)
    assert last.returncode != 0 and "last administrator" in last.stderr
    second = ("users", "create", "second@pref.osaka.lg.jp", "--municipality", "270008")
    assert run(*second, "--role", "admin", settings=settings).returncode == 0
    assert run("users", "disable", "admin@pref.osaka.lg.jp", settings=settings).returncode == 0
    assert "admin@pref.osaka.lg.jp\tdisabled\t" in run("users", "list", settings=settings).stdout
    dead_link = run("users", "reset", "admin@pref.osaka.lg.jp", settings=settings)
    assert dead_link.returncode != 0 and "enable it" in dead_link.stderr
    assert run("users", "enable", "admin@pref.osaka.lg.jp", settings=settings).returncode == 0
    assert "admin@pref.osaka.lg.jp\tinvited\t" in run("users", "list", settings=settings).stdout


def test_a_mail_server_that_is_down_leaves_the_link_printed_and_says_so(scratch):
    settings, _ = scratch
    made = run(
        "users",
        "create",
        "kikaku@town.shimamoto.lg.jp",
        "--municipality",
        "273015",
        settings=settings,
        env={
            "MAPSVC_STAFF__SMTP_HOST": "127.0.0.1",
            "MAPSVC_STAFF__SMTP_PORT": str(free_port()),  # nothing listens there
        },
    )
    assert made.returncode == 0, made.stderr  # the account and its link exist
    assert "/staff/setup/" in made.stdout.splitlines()[0]
    assert "could not be sent" in made.stderr and "メールは送れませんでした" not in made.stdout
