"""AppTest of the real ``app.py`` against a fresh SQLite database per test, or against
PostgreSQL too where the database matters.

Signing in: ``sign_in_as`` records a sign-in (``core.access.auth.start_session``) and sets
streamlit-authenticator's own session keys (``authentication_status`` and ``username``) with
GridBoard's sign-in id, exactly what a successful sign-in leaves; ``app.py`` then reads that
sign-in, user and role from the database on every run, as it does in a browser. The cookie
flow is the browser test's; the sign-in rules are ``tests/test_auth.py``'s.

Pages only draw and call ``core``, whose functions are tested on both backends, so most page
tests run the app on SQLite. A test (or module) marked ``pytest.mark.every_backend`` runs
twice, ``[sqlite]`` and ``[postgresql]``: the app then opens this run's PostgreSQL database
(``tests/conftest.py``), emptied before the test. Sign-in and lockout, cookies, sessions, the
report pages and the busy database are marked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.access.auth import start_session
from core.config import get_settings
from core.db import Database, open_database
from core.domain import Role
from core.models import User
from tests.conftest import empty
from tests.pages.server_process import like_one_server_process
from views import resources
from views.sign_in import COOKIE_EXPIRY_DAYS, SESSION_ID

APP = Path(__file__).resolve().parents[2] / "app.py"
COOKIE_KEY = "a-test-cookie-key-of-40-characters-long!"
PASSWORD = "pass-word-123"


class NoRunner:
    """Stands in for the report runner: tests compute reports when they choose to."""

    woken = 0

    def wake(self) -> None:
        NoRunner.woken += 1


@pytest.fixture
def app_backend(request: pytest.FixtureRequest) -> str:
    """The backend ``app_db`` runs on: SQLite, unless the test is marked ``every_backend``
    (then ``tests/conftest.py`` parametrizes this with both)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def app_db(
    app_backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Database]:
    if app_backend == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("GRIDBOARD_DATABASE_URL", url)
    monkeypatch.setenv("GRIDBOARD_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.delenv("GRIDBOARD_DEMO", raising=False)
    monkeypatch.setattr(resources, "report_runner", NoRunner)
    get_settings.cache_clear()
    st.cache_resource.clear()  # the database of an earlier test
    database = open_database(url)
    empty(database)  # a fresh SQLite file is empty; PostgreSQL's database is this run's
    for username, role in (("mona", Role.MANAGER), ("ulf", Role.USER)):
        add_user(database, username, role)
    with like_one_server_process():
        yield database
    st.cache_resource.clear()
    database.dispose()
    get_settings.cache_clear()


def add_user(database: Database, username: str, role: Role) -> None:
    """A user with the password ``PASSWORD``, hashed cheaply (tests need not be slow)."""
    digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    with database.write() as session:
        session.add(
            User(
                username=username,
                display_name=username.capitalize(),
                email="",
                password_hash=digest,
                role=role.value,
            )
        )


def sign_in_as(at: AppTest, database: Database, username: str) -> str:
    """Leave ``at``'s session as a sign-in through the form would; the sign-in's id."""
    session_id = start_session(
        database, username=username, lifetime=timedelta(days=COOKIE_EXPIRY_DAYS)
    )
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username.capitalize()
    at.session_state[SESSION_ID] = session_id
    return session_id


OpenApp = Callable[..., AppTest]


@pytest.fixture
def open_app(app_db: Database) -> OpenApp:
    """``open_app(as_user="mona", page="pages/users.py", query={...})``: the app after its
    first run(s), signed in as ``as_user`` (or signed out)."""

    def opened(
        *, as_user: str | None = None, page: str | None = None, query: dict[str, Any] | None = None
    ) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        if as_user:
            sign_in_as(at, app_db, as_user)
        at.query_params.update({k: str(v) for k, v in (query or {}).items()})
        at.run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    return opened


def texts(elements: Any) -> list[str]:
    return [str(element.value) for element in elements]


def everything(at: AppTest) -> str:
    """Every message and text on the page, to assert what a person would read."""
    parts = [
        *texts(at.title),
        *texts(at.subheader),
        *texts(at.markdown),
        *texts(at.caption),
        *texts(at.info),
        *texts(at.success),
        *texts(at.warning),
        *texts(at.error),
        *(f"{m.label}: {m.value}" for m in at.metric),
    ]
    return "\n".join(parts)
