"""docker-compose.yml stays consistent with the app's settings and the files it mounts."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from pydantic import BaseModel

from mapsvc.settings import Settings
from tests.support.paths import PROJECT

COMPOSE = PROJECT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT / ".env.example"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def setting_exists(variable: str) -> bool:
    """Whether ``MAPSVC_A__B`` names a field of the settings (sections split by ``__``)."""
    model: type[BaseModel] = Settings
    *sections, name = variable.removeprefix("MAPSVC_").lower().split("__")
    for section in sections:
        field = model.model_fields.get(section)
        if field is None or not isinstance(field.annotation, type):
            return False
        model = field.annotation
    return name in model.model_fields


def test_every_mapsvc_variable_the_compose_file_sets_is_a_setting():
    services = compose()["services"]
    app, harvest = services["app"]["environment"], services["harvest"]["environment"]
    variables = [name for name in (*app, *harvest) if name.startswith("MAPSVC_")]
    assert "MAPSVC_DATABASE__READ_URL" in variables and "MAPSVC_WORKERS" in variables
    assert "MAPSVC_HARVEST__ALLOW_NETWORKS" in variables
    assert [v for v in variables if not setting_exists(v)] == []
    assert not setting_exists("MAPSVC_DATABASE__NO_SUCH") and not setting_exists("MAPSVC_NOPE")


def test_every_variable_it_reads_from_env_is_in_the_example_and_nothing_else():
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used == example


def test_production_shape_restart_health_volumes_and_no_demo_by_default():
    services = compose()["services"]
    assert set(services) == {"db", "replica", "app", "harvest", "proxy"}
    # The harvest runs as its own service, not also inside every app container.
    assert services["app"]["environment"]["MAPSVC_HARVEST__EMBEDDED"] == "0"
    assert services["harvest"]["command"] == ["mapsvc", "harvest"]
    for name, service in services.items():
        restart = service.get("restart") or compose()["x-postgis"]["restart"]
        assert restart == "unless-stopped", name
        assert "healthcheck" in service, name
    assert "ports" not in services["app"]  # only the proxy is reachable from outside
    assert services["proxy"]["ports"] == ["443:443"]
    assert services["app"]["environment"]["MAPSVC_DEMO"] == "${MAPSVC_DEMO:-0}"
    assert "demo" not in " ".join(services["app"]["command"])
    assert set(compose()["volumes"]) == {"pgdata", "pgreplica", "proxycache"}


def test_the_files_it_mounts_exist():
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (PROJECT / source).exists(), source
    assert (
        "upstream.conf"
        in (PROJECT / "deploy/nginx/nginx.conf").read_text()
        + (PROJECT / "deploy/nginx/mapsvc.conf").read_text()
    )


def compose_client() -> list[str] | None:
    """``docker compose`` (v2) or ``docker-compose`` (Debian's), whichever is installed."""
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.mark.skipif(compose_client() is None, reason="no compose client (setup.sh installs one)")
def test_the_compose_client_accepts_it():
    client = compose_client()
    assert client is not None
    done = subprocess.run(
        [*client, "-f", str(COMPOSE), "--env-file", str(ENV_EXAMPLE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_image_is_built_in_stages_and_runs_without_node_or_an_editable_install():
    """No Docker engine here to build it: the Dockerfile's shape is what can be checked."""
    stages = re.split(r"^FROM ", (PROJECT / "Dockerfile").read_text(), flags=re.MULTILINE)[1:]
    assert len(stages) == 3
    runtime = stages[-1]
    assert not re.search(
        r"\b(nodejs|npm|node)\b", runtime.split("\n", 1)[1].replace("node_modules", "")
    )
    assert "COPY --from=web-packages /app/node_modules" in runtime
    assert "pip install" not in runtime and "-e ." not in "".join(stages)
    # Migrations are a step of their own that compose runs before the server.
    command = " ".join(compose()["services"]["app"]["command"])
    assert command.index("mapsvc db upgrade") < command.index("mapsvc serve")
    assert "upgrade" not in runtime
