"""What a client of the reference service notices under `/b` (issue 27): its enumerations,
its 409 while a report is not ready, its scopes and 401, its order, its error bodies; and
CORS as GRIDBOARD_CORS_ORIGINS says, on `/` (the single posts too) and `/b`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from core.db import Database
from tests.api.conftest import SETTINGS, TestClient
from tests.conftest import empty
from tests.reference.conftest import ReferenceClient, add_users, bearer, start_server, stop

ALLOWED = "http://allowed.example:3000"


@pytest.fixture(scope="module")
def server(migrated: Database) -> Iterator[str]:
    """No report runs (each stays pending), and one origin is allowed."""
    empty(migrated)
    add_users(migrated)
    process, port = start_server(
        migrated, GRIDBOARD_APP_RUNS_REPORTS="false", GRIDBOARD_CORS_ORIGINS=ALLOWED
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


TRANSFORMER = {"name": "T1", "substation": "S1", "component_type": "TRANSFORMER",
               "capacity_mva": 40.0, "voltage_kv": 110.0}  # fmt: skip


def test_enumerations_are_upper_case_in_and_out(client: ReferenceClient, server: str):
    manager = bearer(client, "manager", "manager")
    switch = client.post(
        "/components",
        json={"name": "S9", "substation": "S1", "component_type": "SWITCH", "status": "OPEN"},
        headers=manager,
    ).json()
    assert switch["component_type"] == "SWITCH" and switch["status"] == "OPEN"
    reading = {"component_id": switch["id"], "value": 1.0, "measurement_type": "POWER",
               "timestamp": "2026-01-01T00:00:00+02:00"}  # fmt: skip
    added = client.post("/measurements", json=reading, headers=manager).json()
    assert added["measurement_type"] == "POWER"
    assert added["timestamp"] == "2025-12-31T22:00:00Z"  # the offset kept, as UTC
    # GridBoard's own API is as it was: lower case.
    root = httpx.get(f"{server}/components", headers=manager).json()
    assert {item["component_type"] for item in root} == {"switch"}


def test_a_report_answers_409_until_it_is_ready(client: ReferenceClient):
    manager = bearer(client, "manager", "manager")
    period = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-02T00:00:00Z"}
    queued = client.post("/reports", json=period, headers=manager)
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    polled = client.get(f"/reports/{queued.json()['id']}", headers=manager)
    assert polled.status_code == 409
    assert polled.json() == {"detail": "Report is not ready yet"}
    assert client.get("/reports/999999", headers=manager).status_code == 404


def test_every_report_is_listed_newest_first(client: ReferenceClient):
    manager = bearer(client, "manager", "manager")
    period = {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-02-02T00:00:00Z"}
    for _ in range(101):
        client.post("/reports", json=period, headers=manager)
    ids = [report["id"] for report in client.get("/reports", headers=manager).json()]
    assert len(ids) >= 101 and ids == sorted(ids, reverse=True)


def test_scopes_are_the_references(client: ReferenceClient):
    unscoped = bearer(client, "manager")  # no scope asked: a user's token
    user = bearer(client, "user", "user")
    for headers in (unscoped, user):
        refused = client.post("/components", json=TRANSFORMER | {"name": "T-x"}, headers=headers)
        assert refused.status_code == 401
        assert client.delete("/components/1", headers=headers).status_code == 401
    asked = client.post(
        "/auth/token", data={"username": "user", "password": "meter-read-456", "scope": "manager"}
    )
    assert asked.status_code == 403
    me = client.get("/auth/users/me/", headers=unscoped).json()
    assert me == {"username": "manager", "manager": True}
    assert client.get("/components").status_code == 401


def test_components_are_listed_by_id(client: ReferenceClient):
    manager = bearer(client, "manager", "manager")
    made = [
        client.post("/components", json=TRANSFORMER | {"name": name}, headers=manager).json()["id"]
        for name in ("Z-last", "A-first", "M-middle")
    ]
    listed = [item["id"] for item in client.get("/components?limit=1000", headers=manager).json()]
    assert listed == sorted(listed) and set(made) <= set(listed)


def test_a_broken_rule_is_fastapis_list_detail(client: ReferenceClient):
    manager = bearer(client, "manager", "manager")
    bad = client.post(
        "/components", json=TRANSFORMER | {"name": "T-bad", "capacity_mva": -1}, headers=manager
    )
    assert bad.status_code == 422
    [problem] = [p for p in bad.json()["detail"] if p["loc"] == ["body", "capacity_mva"]]
    assert problem["input"] == -1 and problem["type"] == "value_error"
    shapeless = client.post("/components", json={"name": "x"}, headers=manager)
    assert shapeless.status_code == 422 and isinstance(shapeless.json()["detail"], list)


def test_a_put_without_the_types_fields_keeps_them(client: ReferenceClient):
    manager = bearer(client, "manager", "manager")
    made = client.post("/components", json=TRANSFORMER | {"name": "T-put"}, headers=manager)
    changed = client.put(
        f"/components/{made.json()['id']}",
        json={"component_type": "TRANSFORMER", "capacity_mva": 63.0},
        headers=manager,
    )
    assert changed.status_code == 200
    assert changed.json()["capacity_mva"] == 63.0 and changed.json()["voltage_kv"] == 110.0
    to_line = client.put(
        f"/components/{made.json()['id']}", json={"component_type": "LINE"}, headers=manager
    )
    assert to_line.status_code == 422  # a line needs its length and voltage: named, not a 500


@pytest.mark.parametrize("path", ["/b/components", "/components", "/measurements"])
def test_a_preflight_from_an_allowed_origin_gets_the_headers(server: str, path: str):
    asked = {"Origin": ALLOWED, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    answer = httpx.options(f"{server}{path}", headers=asked)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    other = httpx.options(f"{server}{path}", headers=asked | {"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_the_single_post_answers_carry_cors(client: ReferenceClient, server: str):
    manager = bearer(client, "manager", "manager")
    made = client.post("/components", json=TRANSFORMER | {"name": "T-cors"}, headers=manager)
    reading = {"component_id": made.json()["id"], "value": 110.0, "measurement_type": "voltage",
               "timestamp": "2026-03-01T00:00:00Z"}  # fmt: skip
    for origin, expected in ((ALLOWED, ALLOWED), ("https://evil.example", None)):
        answer = httpx.post(
            f"{server}/measurements", json=reading, headers=manager | {"Origin": origin}
        )
        assert answer.status_code in (201, 409)
        assert answer.headers.get("access-control-allow-origin") == expected
        reading["value"] += 1
        reading["timestamp"] = "2026-03-01T00:01:00Z"


def test_no_origin_is_allowed_by_default(db: Database):
    with TestClient(create_app(db, settings=SETTINGS, run_reports=False)) as app:
        asked = {"Origin": ALLOWED, "Access-Control-Request-Method": "GET"}
        for path in ("/b/components", "/components"):
            assert "access-control-allow-origin" not in app.options(path, headers=asked).headers
