"""The deployment files as text; `make image-test` (tests/deployment) builds and runs them."""

from __future__ import annotations

from pathlib import Path

import yaml

from core.config import Settings
from tests.test_config import settings_fields

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_postgres_two_app_replicas_a_worker_and_the_api():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "app", "worker", "api"}
    assert services["app"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"] == ["gridboard", "worker"]
    assert services["api"]["command"][:2] == ["gridboard", "api"]
    for name in ("app", "worker", "api"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
        assert services[name]["environment"]["GRIDBOARD_LOG_FORMAT"] == "json"
    # the app replicas queue reports and the worker computes them
    runs_reports = services["app"]["environment"]["GRIDBOARD_APP_RUNS_REPORTS"]
    assert "GRIDBOARD_APP_RUNS_REPORTS" in settings_fields()
    assert Settings(app_runs_reports=runs_reports).app_runs_reports is False
    assert "GRIDBOARD_APP_RUNS_REPORTS" not in services["worker"]["environment"]


def test_compose_passes_secrets_as_files_that_settings_read():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    settings = {name.lower() for name in settings_fields()}
    for name in ("app", "worker", "api"):
        assert set(services[name]["secrets"]) == {"gridboard_database_url", "gridboard_cookie_key"}
        assert set(services[name]["secrets"]) <= settings  # the file names Settings looks for
        text = yaml.safe_dump(services[name])
        assert "PASSWORD" not in text and "COOKIE_KEY" not in text
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == (
        "/run/secrets/postgres_password"
    )
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert "secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8")


def test_image_copies_what_the_app_imports_and_runs_as_non_root():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for folder in ("core", "pages", "views"):
        assert f"COPY {folder}" in dockerfile or f"COPY --chown=10001 {folder}" in dockerfile
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/_stcore/health" in dockerfile


def test_the_image_names_no_database_url_so_a_secret_file_can():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "GRIDBOARD_DATABASE_URL" not in dockerfile  # the environment wins over a file
    assert "GRIDBOARD_DATA_DIR=/data" in dockerfile and 'VOLUME ["/data"]' in dockerfile


def test_build_context_holds_no_secrets_or_local_state():
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    first_allowed = min(i for i, line in enumerate(ignore) if line.startswith("!"))
    assert "*" in ignore[:first_allowed]  # everything is excluded first, then code let in
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {
        "pyproject.toml", "constraints.txt", "README.md", "app.py", "core", "api", "pages",
        "views", ".streamlit/config.toml",
    }  # fmt: skip
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = {
        part.rstrip("/")
        for line in dockerfile.splitlines()
        if line.startswith("COPY") and "--from" not in line
        for part in line.split()[1:-1]
        if not part.startswith("--")
    }
    assert copied <= allowed, (
        f"the Dockerfile copies what the build context lacks: {copied - allowed}"
    )


def test_compose_serves_the_api_from_the_image_and_leaves_reports_to_the_worker():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    api = compose["services"]["api"]
    command = api["command"]
    assert command[:2] == ["gridboard", "api"]
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104 (reachable from outside)
    port = command[command.index("--port") + 1]
    assert api["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/" in " ".join(api["healthcheck"]["test"])
    assert (
        Settings(app_runs_reports=api["environment"]["GRIDBOARD_APP_RUNS_REPORTS"]).app_runs_reports
        is False
    )
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY api ./api" in dockerfile  # installed with core, so `gridboard api` finds it
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"api*"' in pyproject  # the package is part of the installed distribution
