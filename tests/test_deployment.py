"""The deployment files: checked here because no Docker engine runs on these machines."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_postgres_two_app_replicas_and_a_worker():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "app", "worker"}
    assert services["app"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"] == ["gridboard", "worker"]
    for name in ("app", "worker"):
        environment = services[name]["environment"]
        assert environment["GRIDBOARD_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "GRIDBOARD_COOKIE_KEY" in environment
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_image_copies_what_the_app_imports_and_runs_as_non_root():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for folder in ("core", "pages", "views"):
        assert f"COPY {folder}" in dockerfile or f"COPY --chown=10001 {folder}" in dockerfile
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/_stcore/health" in dockerfile
