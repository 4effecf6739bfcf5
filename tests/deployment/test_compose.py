"""compose.yaml as a compose implementation reads it (`podman-compose config`): its services are
the containers the image tests run, each given its secrets as files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deployment.engine import Engine

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parents[2]
GRIDBOARD_SECRETS = ["gridboard_database_url", "gridboard_cookie_key"]


def resolved_compose(engine: Engine) -> dict:
    """`docker compose config` or `podman-compose config`: the file with anchors, merges and
    paths resolved, or a failed test with the implementation's complaint."""
    if engine.program == "docker":
        command = ["docker", "compose", "-f", "compose.yaml", "config"]
    else:  # podman-compose is a test extra, installed beside pytest
        command = [
            str(Path(sys.executable).with_name("podman-compose")),
            "-f",
            "compose.yaml",
            "config",
        ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env=engine.env(), check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def test_compose_config_reads_the_services_the_image_tests_run(engine: Engine):
    compose = resolved_compose(engine)
    services = compose["services"]
    assert set(services) == {"db", "app", "worker", "api"}

    app, worker, api = services["app"], services["worker"], services["api"]
    assert app["deploy"]["replicas"] == 2
    assert app["environment"]["GRIDBOARD_APP_RUNS_REPORTS"] == "false"
    assert worker["command"] == ["gridboard", "worker"]
    everywhere = "0.0.0.0"  # noqa: S104 (inside its container, behind the published port)
    assert api["command"][:6] == ["gridboard", "api", "--host", everywhere, "--port", "8000"]
    assert api["environment"]["GRIDBOARD_APP_RUNS_REPORTS"] == "false"  # the worker runs them
    for name in ("app", "worker", "api"):
        service = services[name]
        assert Path(service["build"]["context"]).resolve() == ROOT  # the Dockerfile tested
        assert service["secrets"] == GRIDBOARD_SECRETS
        assert service["environment"]["GRIDBOARD_LOG_FORMAT"] == "json"
        assert "GRIDBOARD_DATABASE_URL" not in service["environment"]  # would beat the file
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["secrets"] == ["postgres_password"]

    # every secret a service names is a file under secrets/, never a value in this file
    named = {secret for service in services.values() for secret in service.get("secrets", [])}
    assert named == set(compose["secrets"])
    for secret in compose["secrets"].values():
        assert Path(secret["file"]).parent.name == "secrets"
