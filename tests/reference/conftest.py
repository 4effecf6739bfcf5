"""`gridboard api` as a real process on each database, spoken to under `/b` as a client of the
reference service speaks to it; every answer is read with the reference's own shapes
(``tests/reference/models.py``). The reference's fixtures, as plumbing: its users (with
passwords GridBoard's rules take) and its grid of 100 components x 300 x 3 measurements."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from core.access.users import create_user
from core.db import Database
from core.domain import SYSTEM_ACTOR, Role
from tests.api.test_server import ROOT, _free_port, _wait_for
from tests.conftest import empty
from tests.reference.models import parsed

COOKIE_KEY = "r" * 40
PASSWORDS = {"user": "meter-read-456", "manager": "grid-watch-123"}
NUM_COMPONENTS = 100
NUM_MEASUREMENTS = 300


class ReferenceClient:
    """httpx under `/b`; each answer's body is parsed with the reference's models first."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        answer = self.http.request(method, path, **options)
        body = answer.json() if answer.content else None
        parsed(method, "/" + path.lstrip("/").split("?")[0], answer.status_code, body)
        return answer

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> httpx.Response:
        return self.request("PUT", path, **options)

    def delete(self, path: str, **options: Any) -> httpx.Response:
        return self.request("DELETE", path, **options)


def start_server(database: Database, **environment: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    url = database.engine.url.render_as_string(hide_password=False)
    env = os.environ | {"GRIDBOARD_COOKIE_KEY": COOKIE_KEY, "GRIDBOARD_LOG_FORMAT": "text"}
    env.pop("GRIDBOARD_DEMO", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "--database-url", url, "api", "--port", str(port)],
        cwd=ROOT,
        env=env | environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(port, process)
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def bearer(client: ReferenceClient, username: str, scope: str = "") -> dict[str, str]:
    form = {"username": username, "password": PASSWORDS[username], "scope": scope}
    token = client.post("/auth/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def populate_components(client: ReferenceClient, headers: dict[str, str]) -> list[int]:
    """The reference's 100 components (TR_/LN_/SW_ in SUB_0..4), made through `/b`."""
    configs = {
        0: {"component_type": "TRANSFORMER", "prefix": "TR", "voltage_kv": 110.0,
            "capacity_mva": 63.0},
        1: {"component_type": "LINE", "prefix": "LN", "voltage_kv": 220.0, "length_km": 42.5},
        2: {"component_type": "SWITCH", "prefix": "SW", "status": "CLOSED"},
    }  # fmt: skip
    ids = []
    for i in range(1, NUM_COMPONENTS + 1):
        config = dict(configs[i % 3])
        prefix = config.pop("prefix")
        body = {"name": f"{prefix}_{i:03d}", "substation": f"SUB_{i % 5}", **config}
        answer = client.post("/components", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids


def populate_measurements(base_url: str, ids: list[int], headers: dict[str, str]) -> None:
    """300 readings 15 s apart of each type on each component, from 2026-01-01 UTC, values
    0..999 (seeded), sent as one CSV import (GridBoard's bulk path)."""
    import random

    draw = random.Random(42)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = io.StringIO()
    rows.write("component_id,timestamp,measurement_type,value\n")
    for component_id in ids:
        for step in range(NUM_MEASUREMENTS):
            moment = (start + timedelta(seconds=15 * step)).strftime("%Y-%m-%dT%H:%M:%SZ")
            for kind in ("CURRENT", "VOLTAGE", "POWER"):
                rows.write(f"{component_id},{moment},{kind},{draw.randrange(1000)}\n")
    answer = httpx.post(
        f"{base_url}/measurements/import?allow_implausible=true",  # random readings
        content=rows.getvalue().encode(),
        headers=headers | {"Content-Type": "text/csv"},
        timeout=300,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["inserted"] == NUM_COMPONENTS * NUM_MEASUREMENTS * 3


def add_users(database: Database) -> None:
    with database.write() as session:
        for username, password in PASSWORDS.items():
            role = Role.MANAGER if username == "manager" else Role.USER
            create_user(
                session=session, actor=SYSTEM_ACTOR, username=username, password=password,
                role=role,
            )  # fmt: skip


@pytest.fixture(scope="module")
def server(migrated: Database) -> Iterator[str]:
    """A server on an emptied database with the reference's users: its root URL."""
    empty(migrated)
    add_users(migrated)
    process, port = start_server(migrated)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[ReferenceClient]:
    reference = ReferenceClient(f"{server}/b")
    yield reference
    reference.http.close()


@pytest.fixture(scope="module")
def grid(server: str, client: ReferenceClient) -> list[int]:
    """The reference's conftest data, once per module and database: the component ids."""
    headers = bearer(client, "manager", "manager")
    ids = populate_components(client, headers)
    populate_measurements(server, ids, headers)
    return ids
