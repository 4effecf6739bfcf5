"""The built image run as a user would run it (``make image-test``; marker ``image``).

The image is ``GRIDBOARD_IMAGE`` (default ``localhost/gridboard:latest``, what ``make image``
tags), the engine ``GRIDBOARD_ENGINE`` (``make`` picks Docker when ``docker info`` answers,
else Podman). A run makes its own containers, volumes and PostgreSQL database and removes them
all at the end; when a test failed, the logs of every container are printed first.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url

from tests.conftest import ADMIN_URL
from tests.deployment.engine import Engine, pick_engine
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

SLOW_MS = 60_000  # Playwright's wait for a cold app on a busy machine


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    image = os.environ.get("GRIDBOARD_IMAGE", "localhost/gridboard:latest")
    engine = Engine(program=pick_engine(), image=image, run_id=uuid.uuid4().hex[:8])
    found = engine.run("image", "inspect", "--format", "{{.Id}}", image, check=False)
    if found.returncode != 0:
        pytest.fail(f"no image {image} for {engine.program}: run `make image` first")
    print(f"\n[image-test] {engine.program} runs {image} ({found.stdout.strip()[:19]})")
    yield engine
    if request.session.testsfailed:
        for container in engine.containers():
            print(f"\n===== logs of {container.name} =====\n{container.logs()[-8000:]}")
    engine.remove_everything()


@dataclass(frozen=True)
class PostgresDatabase:
    name: str
    url: str  # for this process and for containers on the host's network


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabase]:
    """A database of its own on the host's PostgreSQL, dropped after the run."""
    name = f"gridboard_image_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"the image tests need PostgreSQL at {ADMIN_URL}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    yield PostgresDatabase(name=name, url=url.render_as_string(hide_password=False))
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def cookie_key() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A browser context of its own (no cookies from other tests)."""
    opened = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened.set_default_timeout(SLOW_MS)
    yield opened
    opened.close()
