"""Every database test runs twice: on SQLite and on PostgreSQL.

PostgreSQL comes from ``GRIDBOARD_TEST_POSTGRES_URL`` (default: the local server's ``test``
database); each test run creates its own database there and drops it afterwards. Without a
server, PostgreSQL tests are skipped on a developer machine but fail in CI (``CI`` set) or when
``GRIDBOARD_REQUIRE_POSTGRES=1``, so they never pass silently where they must run.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url, text

from core.db import Database

ADMIN_URL = os.environ.get(
    "GRIDBOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")
TABLES = (
    "measurements",
    "measurement_rollups",
    "reports",
    "components",
    "substations",
    "users",
    "sign_in_attempts",
    "api_tokens",
    "sign_in_sessions",
)


def _postgres_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("GRIDBOARD_REQUIRE_POSTGRES") == "1"


@pytest.fixture(autouse=True)
def _main_module_kept() -> Iterator[None]:
    """Streamlit's script runner (AppTest too) makes the page's module ``__main__``; a later
    test in the same process that starts a child the ``spawn`` way (the API's large imports)
    would then run app.py again in that child, which dies. Each test gets the real one back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    name = f"gridboard_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if _postgres_required():
            pytest.fail(f"PostgreSQL is required here but unreachable at {ADMIN_URL}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {ADMIN_URL}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "gridboard.db"
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    database.migrate()
    yield database
    database.dispose()


def empty(database: Database) -> None:
    """Delete every row of every table (ids start again at 1 on PostgreSQL)."""
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db(migrated: Database) -> Iterator[Database]:
    """The migrated database of this backend, emptied before each test."""
    empty(migrated)
    yield migrated


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``every_backend`` runs the app (``tests/pages/conftest.py``'s ``app_db``)
    once on SQLite and once on PostgreSQL; other AppTest tests run it on SQLite."""
    marked = metafunc.definition.get_closest_marker("every_backend") is not None
    if marked and "app_backend" in metafunc.fixturenames:
        metafunc.parametrize("app_backend", BACKENDS, indirect=True)
