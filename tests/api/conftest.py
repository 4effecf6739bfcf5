"""The API over the `db` fixture's database (SQLite and PostgreSQL), with a manager and a user
who sign in as people do, and a world of one of each thing a caller can touch."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from api.app import create_app
from core.access.api_tokens import create_api_token, revoke_api_token
from core.access.users import create_user
from core.config import Settings
from core.db import Database
from core.domain import SYSTEM_ACTOR, Role
from core.measurements.measurements import add_measurement
from core.reports.jobs import generate_report, request_report
from tests.factories import make_component

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # starlette prefers httpx2 one day
    from fastapi.testclient import TestClient

COOKIE_KEY = "k" * 40
MANAGER_PASSWORD = "grid-watch-123"
USER_PASSWORD = "meter-read-456"
SETTINGS = Settings(cookie_key=COOKIE_KEY, demo=False)
START = datetime(2024, 5, 1, tzinfo=UTC)


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


@dataclass(frozen=True)
class World:
    """One of each thing a caller can touch, by id or secret."""

    component: int  # a transformer with one measurement
    victim: int  # a component a test may delete
    measurement: int  # the transformer's one measurement
    pending_report: int
    done_report: int
    read_token: str
    write_token: str
    revoked_token: str

    def token(self, scope: str) -> str:
        """The machine token of ``scope`` (``read`` or ``write``)."""
        return {"read": self.read_token, "write": self.write_token}[scope]


@pytest.fixture
def world(people: Database) -> World:
    component = make_component(people)
    victim = make_component(people, name="V1")
    with people.write() as session:
        measurement = add_measurement(
            session=session, actor=SYSTEM_ACTOR, component_id=component.id,
            measurement_type="voltage", timestamp="2024-05-01T00:00:00Z", value=110,
        ).record  # fmt: skip
        pending = request_report(
            session=session, actor=SYSTEM_ACTOR, start=START, end=START + timedelta(days=1)
        )
        tokens = {
            scope: create_api_token(session=session, actor=SYSTEM_ACTOR, name=scope, scope=scope)
            for scope in ("read", "write")
        }
        revoked = create_api_token(session=session, actor=SYSTEM_ACTOR, name="old", scope="write")
        revoke_api_token(session=session, actor=SYSTEM_ACTOR, token_id=revoked.record.id)
    done = generate_report(people, actor=SYSTEM_ACTOR, start=START, end=START + timedelta(days=2))
    return World(
        component=component.id,
        victim=victim.id,
        measurement=measurement.id,
        pending_report=pending.id,
        done_report=done.id,
        read_token=tokens["read"].secret,
        write_token=tokens["write"].secret,
        revoked_token=revoked.secret,
    )


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
