"""The API over the `db` fixture's database (SQLite and PostgreSQL), with a manager and a user
who sign in as people do."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from api.app import create_app
from core.config import Settings
from core.db import Database
from core.domain import SYSTEM_ACTOR, Role
from core.users import create_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # starlette prefers httpx2 one day
    from fastapi.testclient import TestClient

COOKIE_KEY = "k" * 40
MANAGER_PASSWORD = "grid-watch-123"
USER_PASSWORD = "meter-read-456"
SETTINGS = Settings(cookie_key=COOKIE_KEY, demo=False)


@pytest.fixture
def people(db: Database) -> Database:
    with db.write() as session:
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="mona", password=MANAGER_PASSWORD,
            role=Role.MANAGER,
        )  # fmt: skip
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="ulf", password=USER_PASSWORD,
            role=Role.USER,
        )  # fmt: skip
    return db


@pytest.fixture
def client(people: Database) -> Iterator[TestClient]:
    app = create_app(people, settings=SETTINGS, run_reports=False)
    with TestClient(app) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str, password: str, scope: str | None = None) -> str:
    form = {"username": username, "password": password}
    if scope is not None:
        form["scope"] = scope
    answer = client.post("/auth/token", data=form)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def manager_headers(client: TestClient) -> dict[str, str]:
    return bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))


@pytest.fixture
def user_headers(client: TestClient) -> dict[str, str]:
    return bearer(sign_in(client, "ulf", USER_PASSWORD))


def json_of(answer: Any) -> Any:
    return answer.json()
