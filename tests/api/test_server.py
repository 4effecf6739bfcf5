"""`gridboard api` as a real process, spoken to over a socket: it migrates and opens the
database like every command, answers HTTP with keep-alive, runs queued reports, and stops
cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.db import Database
from tests.api.conftest import COOKIE_KEY, MANAGER_PASSWORD
from tests.factories import TRANSFORMER, make_component

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gridboard api did not listen on {port} within {seconds} s")


def test_gridboard_api_serves_real_http_and_stops_on_sigterm(people: Database):
    make_component(people, TRANSFORMER)
    port = _free_port()
    url = people.engine.url.render_as_string(hide_password=False)
    environment = os.environ | {"GRIDBOARD_COOKIE_KEY": COOKIE_KEY, "GRIDBOARD_LOG_FORMAT": "text"}
    environment.pop("GRIDBOARD_DEMO", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "--database-url", url, "api", "--port", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port, process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/docs").status_code == 200
            schema = client.get("/openapi.json").json()
            assert "/components" in schema["paths"] and "/auth/token" in schema["paths"]
            token = client.post(
                "/auth/token",
                data={"username": "mona", "password": MANAGER_PASSWORD, "scope": "manager"},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            listed = client.get("/components", headers=headers)
            assert [item["name"] for item in listed.json()] == ["T1"]
            reading = {
                "component_id": listed.json()[0]["id"],
                "timestamp": "2024-05-01T12:00:00Z",
                "value": 1.5,
                "measurement_type": "POWER",
            }
            added = client.post("/measurements", json=reading, headers=headers)
            assert added.status_code == 201 and added.headers["content-type"] == (
                "application/json"
            )
            assert added.json() | {"id": 0} == reading | {"id": 0, "measurement_type": "power"}
            duplicate = client.post("/measurements", json=reading, headers=headers)
            assert duplicate.status_code == 409
            report = client.post(
                "/reports",
                json={"start_date": "2024-05-01", "end_date": "2024-05-02"},
                headers=headers,
            ).json()
            deadline = time.monotonic() + 60
            while client.get(f"/reports/{report['id']}", headers=headers).json()["status"] != (
                "completed"
            ):
                assert time.monotonic() < deadline, "the server's runner did not run the report"
                time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            assert raw.recv(64).startswith(b"HTTP/1.1 400 ")  # refused, the server lives on
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        output = process.stdout.read().decode() if process.stdout else ""
        assert f"GridBoard API: http://localhost:{port}/docs" in output
        assert "auth.sign_in" in output and "report.completed" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
