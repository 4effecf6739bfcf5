"""The exercise's own flows as HTTP calls, on SQLite and PostgreSQL: sign in, components of
each type, filters, update, delete, a measurement, a report polled to completion and read
back against the CLI's CSV files of the same period."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from api.app import create_app
from core.access.users import set_active
from core.cli import main as gridboard
from core.db import Database
from core.domain import SYSTEM_ACTOR
from core.measurements.measurements import add_measurement
from core.reports.export import report_zip, table_csv
from core.reports.jobs import get_report, get_report_tables, marked_tables
from tests.api.conftest import (
    MANAGER_PASSWORD,
    SETTINGS,
    USER_PASSWORD,
    TestClient,
    bearer,
    sign_in,
)

TRANSFORMER = {
    "name": "T1",
    "substation": "Riverside",
    "component_type": "TRANSFORMER",
    "capacity_mva": 40,
    "voltage_kv": 110,
}
LINE = {
    "name": "L1",
    "substation": "Hilltop",
    "component_type": "Line",
    "length_km": 12.5,
    "voltage_kv": 20,
}
SWITCH = {"name": "S1", "substation": "Riverside", "component_type": "switch", "status": "CLOSED"}


def test_sign_in_gives_a_token_for_the_role_asked(client):
    manager = client.post(
        "/auth/token", data={"username": "mona", "password": MANAGER_PASSWORD, "scope": "manager"}
    )
    assert manager.status_code == 200
    assert manager.json()["token_type"] == "bearer"
    assert manager.json()["scope"] == "user manager"
    me = client.get("/auth/users/me", headers=bearer(manager.json()["access_token"]))
    assert me.json() == {"username": "mona", "role": "manager", "manager": True, "kind": "user"}
    # a manager may ask for a user token, and then only reads
    lowered = sign_in(client, "mona", MANAGER_PASSWORD, "user")
    assert client.get("/auth/users/me/", headers=bearer(lowered)).json()["role"] == "user"
    refused = client.post("/components", json=SWITCH, headers=bearer(lowered))
    assert refused.status_code == 403
    # without a scope, the user's own role; /token answers the same as /auth/token
    own = client.post("/token", data={"username": "MONA ", "password": MANAGER_PASSWORD})
    assert own.status_code == 200 and own.json()["scope"] == "user manager"


def test_a_user_asking_for_more_gets_403_and_bad_credentials_401(client):
    more = client.post(
        "/auth/token", data={"username": "ulf", "password": USER_PASSWORD, "scope": "manager"}
    )
    assert more.status_code == 403
    assert more.json()["detail"] == (
        "ulf (user) may not have a manager token: only a manager may do that"
    )
    unknown = client.post(
        "/auth/token", data={"username": "ulf", "password": USER_PASSWORD, "scope": "foobar"}
    )
    assert unknown.status_code == 403
    assert "foobar" in unknown.json()["detail"]
    wrong = client.post("/auth/token", data={"username": "ulf", "password": "not-it-at-all-9"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "unknown username or wrong password", "problems": []}
    assert wrong.headers["www-authenticate"] == "Bearer"
    missing = client.post("/auth/token", data={"username": "ulf"})
    assert missing.status_code == 422


def test_the_lockout_holds_for_the_api_as_for_the_form(client, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)  # the slow-down, not waited out
    for _ in range(5):
        answer = client.post("/auth/token", data={"username": "ulf", "password": "guess-1234"})
    assert answer.status_code == 429
    assert "too many failed sign-ins for 'ulf'" in answer.json()["detail"]
    assert int(answer.headers["retry-after"]) > 0
    right = client.post("/auth/token", data={"username": "ulf", "password": USER_PASSWORD})
    assert right.status_code == 429


def test_components_of_each_type_are_created_listed_filtered_updated_and_deleted(
    client, manager_headers, user_headers
):
    created = {}
    for body in (TRANSFORMER, LINE, SWITCH):
        answer = client.post("/components", json=body, headers=manager_headers)
        assert answer.status_code == 201, answer.text
        created[body["name"]] = answer.json()
    assert created["T1"]["component_type"] == "transformer"
    assert created["S1"]["status"] == "closed"
    assert created["L1"]["capacity_mva"] is None and created["L1"]["length_km"] == 12.5
    assert created["T1"]["created_by"] == "mona"

    duplicate = client.post("/components", json=TRANSFORMER, headers=manager_headers)
    assert duplicate.status_code == 409
    assert duplicate.json() == {
        "detail": "a component named 'T1' already exists in substation 'Riverside'",
        "problems": [],
    }

    def names(**query):
        answer = client.get("/components", params=query, headers=user_headers)
        assert answer.status_code == 200, answer.text
        return [item["name"] for item in answer.json()]

    assert names() == ["L1", "S1", "T1"]
    assert names(name_search="t1") == ["T1"]
    assert names(name_search="hill") == ["L1"]  # the dashboard's search: name or substation
    assert names(substation="Riverside") == ["S1", "T1"]
    assert names(component_type="SWITCH") == ["S1"]
    assert names(limit=2) == ["L1", "S1"]
    assert names(limit=2, offset=2) == ["T1"]
    assert names(sort="substation", descending=True) == ["S1", "T1", "L1"]
    assert client.get("/components", params={"limit": 0}, headers=user_headers).status_code == 422
    assert (
        client.get("/components", params={"limit": 1001}, headers=user_headers).status_code == 422
    )
    bad_type = client.get("/components", params={"component_type": "pylon"}, headers=user_headers)
    assert bad_type.status_code == 422
    assert "'pylon' is not one of transformer, line, switch" in bad_type.json()["detail"]

    t1 = created["T1"]["id"]
    assert client.get(f"/components/{t1}", headers=user_headers).json()["name"] == "T1"
    partial = client.put(f"/components/{t1}", json={"capacity_mva": 63}, headers=manager_headers)
    assert partial.status_code == 200, partial.text
    assert partial.json()["capacity_mva"] == 63 and partial.json()["voltage_kv"] == 110
    retyped = client.put(
        f"/components/{t1}",
        json={"component_type": "LINE", "length_km": 3, "voltage_kv": 20},
        headers=manager_headers,
    )
    assert retyped.status_code == 200, retyped.text
    assert retyped.json()["component_type"] == "line"
    assert retyped.json()["capacity_mva"] is None and retyped.json()["length_km"] == 3
    half = client.put(
        f"/components/{t1}", json={"component_type": "switch"}, headers=manager_headers
    )
    assert half.status_code == 422
    assert half.json()["problems"] == [
        {"field": "status", "reason": "is required (one of open, closed) (required for a switch)"}
    ]
    gone = client.put("/components/999999", json={"name": "X"}, headers=manager_headers)
    assert gone.status_code == 404 and gone.json() == {
        "detail": "component 999999 does not exist",
        "problems": [],
    }

    deleted = client.delete(f"/components/{t1}", headers=manager_headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/components/{t1}", headers=user_headers).status_code == 404
    assert client.delete(f"/components/{t1}", headers=manager_headers).status_code == 404


def test_a_component_that_breaks_rules_is_refused_with_every_problem(client, manager_headers):
    answer = client.post(
        "/components",
        json={"name": " ", "substation": "R", "component_type": "line", "voltage_kv": -3},
        headers=manager_headers,
    )
    assert answer.status_code == 422
    fields = {problem["field"] for problem in answer.json()["problems"]}
    assert fields == {"name", "length_km", "voltage_kv"}
    garbled = client.post("/components", content=b"{not json", headers=manager_headers)
    assert garbled.status_code == 422
    wrong_type = client.post(
        "/components", json={**TRANSFORMER, "component_type": "pylon"}, headers=manager_headers
    )
    assert wrong_type.status_code == 422


def test_a_measurement_is_added_once(client, manager_headers):
    component = client.post("/components", json=TRANSFORMER, headers=manager_headers).json()
    body = {
        "component_id": component["id"],
        "timestamp": "2024-05-01T13:45:00+02:00",
        "value": 110.5,
        "measurement_type": "VOLTAGE",
    }
    added = client.post("/measurements", json=body, headers=manager_headers)
    assert added.status_code == 201, added.text
    assert added.json()["timestamp"] == "2024-05-01T11:45:00Z"
    assert added.json()["measurement_type"] == "voltage" and added.json()["id"] > 0
    again = client.post("/measurements", json=body, headers=manager_headers)
    assert again.status_code == 409
    assert again.json()["detail"].startswith(
        f"component {component['id']} already has a voltage measurement at 2024-05-01T11:45:00"
    )
    replaced = client.post(
        "/measurements", json=body | {"value": 111}, params={"overwrite": True},
        headers=manager_headers,
    )  # fmt: skip
    assert replaced.status_code == 201 and replaced.json()["value"] == 111
    unknown = client.post(
        "/measurements", json=body | {"component_id": 424242}, headers=manager_headers
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "component 424242 does not exist", "problems": []}
    bad = client.post(
        "/measurements", json=body | {"timestamp": "2024-05-01T24:00"}, headers=manager_headers
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "timestamp"
    now = client.post(
        "/measurements", json={k: v for k, v in body.items() if k != "timestamp"},
        headers=manager_headers,
    )  # fmt: skip
    assert now.status_code == 201
    stamped = datetime.fromisoformat(now.json()["timestamp"])
    assert abs(stamped - datetime.now(UTC)) < timedelta(minutes=5)


def _seed(db: Database) -> None:
    assert gridboard(
        [
            "--database-url", db.engine.url.render_as_string(hide_password=False), "seed",
            "--components", "6", "--per-component", "300", "--end", "2024-05-10T00:00:00Z",
        ]
    ) == 0  # fmt: skip


@pytest.fixture
def running_client(people: Database):
    app = create_app(people, settings=SETTINGS, run_reports=True)
    with TestClient(app) as test_client:
        yield test_client


def test_a_report_is_queued_polled_to_completion_and_matches_the_cli(
    running_client, people, tmp_path: Path
):
    client = running_client
    _seed(people)
    manager = bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
    user = bearer(sign_in(client, "ulf", USER_PASSWORD))
    period = {"start_date": "2024-05-07T00:00:00Z", "end_date": "2024-05-10T00:00:00Z"}
    queued = client.post("/reports", json=period | {"time_zone": "Europe/Zurich"}, headers=manager)
    assert queued.status_code == 202, queued.text
    report = queued.json()
    assert report["status"] in ("pending", "running")
    assert queued.headers["location"] == f"/reports/{report['id']}"
    assert set(report) >= {"id", "status", "created_at", "start_date", "end_date", "time_zone"}
    assert report["time_zone"] == "Europe/Zurich"

    deadline = time.monotonic() + 120
    while True:
        polled = client.get(f"/reports/{report['id']}", headers=user)
        assert polled.status_code == 200
        if polled.json()["status"] == "completed":
            break
        assert polled.json()["status"] in ("pending", "running"), polled.json()
        assert time.monotonic() < deadline, "the report did not complete"
        time.sleep(0.2)
    result = polled.json()["result_json"]
    assert set(result["summary"]) == {
        "components_by_type",
        "transformer_capacity_by_voltage",
        "line_length_by_voltage",
    }

    out = tmp_path / "cli"
    url = people.engine.url.render_as_string(hide_password=False)
    assert gridboard(
        ["--database-url", url, "report", "--start", period["start_date"], "--end",
         period["end_date"], "--tz", "Europe/Zurich", "--out", str(out)]
    ) == 0  # fmt: skip
    files = sorted(path.stem for path in out.glob("*.csv"))
    assert sorted([*result["summary"], *(k for k in result if k != "summary")]) == files
    for name in files:
        from_cli = (out / f"{name}.csv").read_bytes()
        table = client.get(f"/reports/{report['id']}/tables/{name}.csv", headers=user)
        assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
        assert table.content == from_cli, name
        rows = result["summary"].get(name, result.get(name))
        expected = pl.read_csv(io.BytesIO(from_cli)).with_columns(
            pl.col(pl.Date).dt.to_string() if name.startswith("daily") else pl.all()
        )
        assert pl.DataFrame(rows, schema=expected.schema).equals(expected), name
    assert result["daily_averages"] and all(
        datetime.strptime(row["day"], "%Y-%m-%d") for row in result["daily_averages"]
    )

    archive = client.get(f"/reports/{report['id']}.zip", headers=user)
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with people.read() as session:
        record = get_report(session=session, report_id=report["id"])
        tables = marked_tables(record, get_report_tables(session=session, report_id=record.id))
    assert archive.content == report_zip(tables, record.metadata())  # the page's zip
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert opened.read("daily_averages.csv") == table_csv(tables["daily_averages"])

    listed = client.get("/reports", headers=user).json()
    assert [item["id"] for item in listed][:1] == [max(item["id"] for item in listed)]
    missing = client.get(f"/reports/{report['id']}/tables/nothing.csv", headers=user)
    assert missing.status_code == 404


def test_a_report_not_completed_has_no_tables_and_can_be_cancelled(
    client, manager_headers, user_headers
):
    period = {"start_date": "2024-05-07", "end_date": "2024-05-08"}
    report = client.post("/reports", json=period, headers=manager_headers).json()
    assert report["status"] == "pending"
    detail = client.get(f"/reports/{report['id']}", headers=user_headers).json()
    assert detail["status"] == "pending" and detail["result_json"] is None
    early = client.get(f"/reports/{report['id']}.zip", headers=user_headers)
    assert early.status_code == 409
    assert early.json() == {
        "detail": f"report {report['id']} is pending; only a completed report has tables",
        "problems": [],
    }
    assert client.delete(f"/reports/{report['id']}", headers=user_headers).status_code == 403
    cancelled = client.delete(f"/reports/{report['id']}", headers=manager_headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"] == "cancelled by mona"
    again = client.delete(f"/reports/{report['id']}", headers=manager_headers)
    assert again.status_code == 409
    assert client.get("/reports/77777", headers=user_headers).status_code == 404
    assert client.get(f"/reports/{2**40}", headers=user_headers).status_code == 404


def test_a_report_with_a_bad_period_or_zone_is_refused(client, manager_headers):
    backwards = client.post(
        "/reports",
        json={"start_date": "2024-05-08", "end_date": "2024-05-07"},
        headers=manager_headers,
    )
    assert backwards.status_code == 422
    zone = client.post(
        "/reports",
        json={"start_date": "2024-05-07", "end_date": "2024-05-08", "time_zone": "Mars/Base"},
        headers=manager_headers,
    )
    assert zone.status_code == 422 and "Mars/Base" in zone.json()["detail"]
    garbage = client.post(
        "/reports", json={"start_date": "soon", "end_date": "later"}, headers=manager_headers
    )
    assert garbage.status_code == 422
    assert {p["field"] for p in garbage.json()["problems"]} == {"start_date", "end_date"}


def test_measurements_read_back_as_json_csv_and_parquet(
    client, manager_headers, user_headers, people
):
    component = client.post("/components", json=TRANSFORMER, headers=manager_headers).json()
    with people.write() as session:
        for minute in range(10):
            add_measurement(
                session=session, actor=SYSTEM_ACTOR, component_id=component["id"],
                measurement_type="voltage", timestamp=f"2024-05-01T00:{minute:02d}:00Z",
                value=100 + minute,
            )  # fmt: skip
        add_measurement(
            session=session, actor=SYSTEM_ACTOR, component_id=component["id"],
            measurement_type="power", timestamp="2024-05-01T00:00:00Z", value=5,
        )  # fmt: skip
    path = f"/components/{component['id']}/measurements"
    raw = client.get(path, params={"measurement_type": "Voltage"}, headers=user_headers)
    assert raw.status_code == 200 and raw.headers["x-downsampled"] == "false"
    rows = raw.json()
    assert [row["value"] for row in rows] == [100.0 + minute for minute in range(10)]
    assert rows[0]["timestamp"] == "2024-05-01T00:00:00Z"
    ranged = client.get(
        path,
        params={"measurement_type": "voltage", "start": "2024-05-01T00:02:00Z",
                "end": "2024-05-01T00:04:00Z"},
        headers=user_headers,
    )  # fmt: skip
    assert [row["value"] for row in ranged.json()] == [102.0, 103.0]
    both = client.get(path, headers=user_headers).json()
    assert {row["measurement_type"] for row in both} == {"voltage", "power"}
    down = client.get(
        path, params={"measurement_type": "voltage", "max_points": 2}, headers=user_headers
    )
    assert down.headers["x-downsampled"] == "true"
    assert [row["sample_count"] for row in down.json()] == [5, 5]
    assert [row["max_value"] for row in down.json()] == [104.0, 109.0]

    csv = client.get(
        path, params={"measurement_type": "voltage"}, headers=user_headers | {"Accept": "text/csv"}
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[:2] == [
        "timestamp,measurement_type,value,min_value,max_value,sample_count",
        "2024-05-01T00:00:00Z,voltage,100.0,100.0,100.0,1",
    ]
    parquet = client.get(path, params={"format": "parquet"}, headers=user_headers)
    frame = pl.read_parquet(io.BytesIO(parquet.content))
    assert frame.height == 11 and frame["timestamp"].dtype == pl.Datetime("us", "UTC")

    assert client.get("/components/99999/measurements", headers=user_headers).status_code == 404
    bad = client.get(path, params={"start": "yesterday"}, headers=user_headers)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "start"
    kind = client.get(path, params={"measurement_type": "heat"}, headers=user_headers)
    assert kind.status_code == 422
    assert client.get(path, params={"format": "xml"}, headers=user_headers).status_code == 422


def test_a_line_connects_two_substations_through_the_api(client, manager_headers, user_headers):
    body = {**LINE, "name": "L9", "to_substation": "Lakeside"}
    created = client.post("/components", json=body, headers=manager_headers)
    assert created.status_code == 201, created.text
    line = created.json()
    assert (line["substation"], line["to_substation"]) == (LINE["substation"], "Lakeside")
    read = client.get(f"/components/{line['id']}", headers=user_headers).json()
    assert read["to_substation"] == "Lakeside"

    renamed = client.put(
        f"/components/{line['id']}", json={"length_km": 7}, headers=manager_headers
    )
    assert renamed.json()["to_substation"] == "Lakeside"  # a partial update keeps the other end
    moved = client.put(
        f"/components/{line['id']}", json={"to_substation": "Hillside"}, headers=manager_headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["to_substation"] == "Hillside"

    loop = client.put(
        f"/components/{line['id']}",
        json={"to_substation": LINE["substation"]},
        headers=manager_headers,
    )
    assert loop.status_code == 422
    assert [problem["field"] for problem in loop.json()["problems"]] == ["to_substation"]
    switch = {"name": "S9", "substation": "Riverside", "component_type": "switch"}
    refused = client.post(
        "/components",
        json={**switch, "status": "open", "to_substation": "Lakeside"},
        headers=manager_headers,
    )
    assert refused.status_code == 422


def test_a_deactivated_user_with_the_right_password_is_told_so(client, people):
    with people.write() as session:
        set_active(session=session, actor=SYSTEM_ACTOR, username="ulf", active=False)
    right = client.post("/auth/token", data={"username": "ulf", "password": USER_PASSWORD})
    assert right.status_code == 401
    assert right.json()["detail"] == "this account is deactivated: ask a manager"
    wrong = client.post("/auth/token", data={"username": "ulf", "password": "not-it-at-all-9"})
    assert wrong.json()["detail"] == "unknown username or wrong password"
