"""The reference service's own tests (its tests/ folder), run over HTTP against `gridboard api`
under `/b`. Only the plumbing changed: a real server and a synchronous client instead of the
app in process, passwords GridBoard's rules take, its data made through the API, a poll that
waits as long as a shared machine needs; the assertions are the reference's."""

from __future__ import annotations

import time

import pytest

from tests.reference.conftest import PASSWORDS, ReferenceClient

pytestmark = pytest.mark.usefixtures("grid")


# tests/unit/auth/test_routes.py
def test_alogin_flow_success(client: ReferenceClient):
    response = client.post(
        "/auth/token",
        data={"username": "user", "password": PASSWORDS["user"], "scope": "user"},
    )
    assert response.status_code == 200
    assert "access_token" in response.json()


def test_alogin_flow_manager_with_descalated_user_scope(client: ReferenceClient):
    response = client.post(
        "/auth/token",
        data={"username": "manager", "password": PASSWORDS["manager"], "scope": "user"},
    )
    assert response.status_code == 200
    assert "access_token" in response.json()


def test_alogin_flow_invalid_scope(client: ReferenceClient):
    response = client.post(
        "/auth/token",
        data={"username": "user", "password": PASSWORDS["user"], "scope": "foobar"},
    )
    assert response.status_code == 403


def test_alogin_flow_invalid_password(client: ReferenceClient):
    response = client.post(
        "/auth/token", data={"username": "user", "password": "foobar", "scope": "user"}
    )
    assert response.status_code == 401


# tests/functional/report/test_report_generation.py
def test_async_report_generation_e2e(client: ReferenceClient):
    login_data = {"username": "manager", "password": PASSWORDS["manager"], "scope": "manager"}
    login_response = client.post("auth/token", data=login_data)
    assert login_response.status_code == 200

    token = login_response.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    payload = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-30T00:00:00Z"}
    response = client.post("/reports", json=payload, headers=headers)
    assert response.status_code == 202
    report_id = response.json()["id"]

    max_attempts = 240  # the reference's 10: a server process on a shared machine
    completed = False

    for _ in range(max_attempts):
        status_res = client.get(f"/reports/{report_id}", headers=headers)

        if status_res.status_code == 200:
            data = status_res.json()
            if data.get("status") == "completed":
                completed = True
                break

        time.sleep(0.5)

    assert completed is True, "Report timed out"
