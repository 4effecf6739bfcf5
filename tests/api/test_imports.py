"""Bulk imports over HTTP: the same import path as the dashboard and the CLI, for CSV,
Parquet and JSON bodies, all rows or none, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.child import import_in_child
from core.db import Database
from core.models import Component, Measurement
from tests.api.conftest import SETTINGS, TestClient

COMPONENTS_CSV = (
    "name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
    "T1,Riverside,transformer,40,110,,\n"
    "L1,Riverside,line,,20,12.5,\n"
    "S1,Riverside,switch,,,,closed\n"
)
CSV = {"Content-Type": "text/csv"}
START = datetime(2024, 1, 1, tzinfo=UTC)


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _readings(rows: int, *, bad_line: int | None = None) -> str:
    lines = ["component_name,substation,timestamp,measurement_type,value"]
    for index in range(rows):
        stamp = (START + timedelta(minutes=15 * index)).strftime("%Y-%m-%dT%H:%M:%SZ")
        value = "twelve" if bad_line == index + 2 else f"{100 + index % 7}.5"
        lines.append(f"T1,Riverside,{stamp},voltage,{value}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def grid(client: TestClient, manager_headers) -> None:
    answer = client.post(
        "/components/import", content=COMPONENTS_CSV, headers=manager_headers | CSV
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "file_name": "body.csv",
        "rows": 3,
        "inserted": 3,
        "skipped": 0,
        "overwritten": 0,
        "created_substations": ["Riverside"],
        "ignored_columns": [],
        "allow_implausible": False,
    }


def test_a_good_csv_is_imported_and_duplicates_are_skipped_or_replaced(
    client, manager_headers, grid, people
):
    body = _readings(500)
    first = client.post("/measurements/import", content=body, headers=manager_headers | CSV)
    assert first.status_code == 200, first.text
    assert first.json()["inserted"] == 500 and first.json()["skipped"] == 0
    again = client.post(
        "/measurements/import",
        content=body,
        params={"file_name": "feed.csv"},
        headers=manager_headers | CSV,
    )
    assert again.json() == {
        "file_name": "feed.csv",
        "rows": 500,
        "inserted": 0,
        "skipped": 500,
        "overwritten": 0,
        "created_substations": [],
        "ignored_columns": [],
        "allow_implausible": False,
    }
    replaced = client.post(
        "/measurements/import",
        content=body.replace(".5\n", ".25\n"),
        params={"overwrite": "true"},
        headers=manager_headers | CSV,
    )
    assert replaced.json()["overwritten"] == 500
    assert _count(people, Measurement) == 500
    with people.read() as session:
        assert session.scalar(select(func.max(Measurement.value))) == 106.25


def test_a_bad_row_deep_inside_a_large_file_writes_nothing(client, manager_headers, grid, people):
    body = _readings(60_000, bad_line=45_678)
    answer = client.post("/measurements/import", content=body, headers=manager_headers | CSV)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "import refused, nothing was written: 1 problem"
    assert answer.json()["problems"] == [
        {
            "line": 45_678,
            "column": "value",
            "reason": "'twelve' is not a number (use a dot for decimals, like 1.5)",
        }
    ]
    assert answer.json()["problems_total"] == 1
    assert _count(people, Measurement) == 0


@pytest.mark.parametrize("shape", ["csv", "json"])
def test_many_bad_rows_answer_the_first_100_and_the_count_of_the_rest(
    client, manager_headers, grid, people, shape
):
    rows = [
        ("T1", "Riverside", (START + timedelta(seconds=i)).isoformat(), "power", "x")
        for i in range(5_000)
    ]
    if shape == "csv":
        body = ("component_name,substation,timestamp,measurement_type,value\n"
                + "".join(",".join(row) + "\n" for row in rows)).encode()  # fmt: skip
        headers = manager_headers | CSV
    else:
        names = ("component_name", "substation", "timestamp", "measurement_type", "value")
        body = json.dumps([dict(zip(names, row, strict=True)) for row in rows]).encode()
        headers = manager_headers | {"Content-Type": "application/json"}
    answer = client.post("/measurements/import", content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "import refused, nothing was written: 5,000 problems"
    assert [p["line"] for p in answer.json()["problems"]] == list(range(2, 102))
    assert answer.json()["problems_total"] == 5_000
    assert _count(people, Measurement) == 0


def test_json_that_does_not_parse_is_answered_400_with_where_it_stops(
    client, manager_headers, grid, people
):
    headers = manager_headers | {"Content-Type": "application/json"}
    for body, detail in (
        (b'[{"value": 1},\n {"value": 2,, }]', "Expecting property name enclosed in double "
         "quotes at line 2, column 14"),
        (b'[{"value": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]",
         "item 1 (at line 1, column 2) nests arrays or objects too deeply"),
    ):  # fmt: skip
        answer = client.post("/measurements/import", content=body, headers=headers)
        assert answer.status_code == 400, answer.text
        assert detail in answer.json()["detail"]
    digits = b"9" * 5_000
    huge = b'[{"component_id": 1, "timestamp": "2024-05-01T00:00:00Z", "measurement_type": ' \
        b'"power", "value": ' + digits + b"}]"  # fmt: skip
    answer = client.post("/measurements/import", content=huge, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["column"] == "value"
    assert _count(people, Measurement) == 0


def test_parquet_and_json_bodies_take_the_same_path(client, manager_headers, grid, people):
    frame = pl.read_csv(io.StringIO(_readings(20)), infer_schema=False)
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    parquet = client.post(
        "/measurements/import",
        content=buffer.getvalue(),
        headers=manager_headers | {"Content-Type": "application/vnd.apache.parquet"},
    )
    assert parquet.status_code == 200, parquet.text
    assert parquet.json()["inserted"] == 20 and parquet.json()["file_name"] == "body.parquet"

    rows = [
        {
            "component_name": "T1",
            "substation": "Riverside",
            "timestamp": "2024-06-01T00:00:00Z",
            "measurement_type": "POWER",
            "value": 12.5,
        },
        {
            "component_name": "T1",
            "substation": "Riverside",
            "timestamp": "2024-06-01T00:15:00+02:00",
            "measurement_type": "power",
            "value": 13,
        },
    ]
    answer = client.post("/measurements/import", json=rows, headers=manager_headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["inserted"] == 2
    assert _count(people, Measurement) == 22

    bad = [rows[0] | {"timestamp": "2024-06-02T00:00:00Z"}, rows[1] | {"value": "high"}]
    refused = client.post("/measurements/import", json=bad, headers=manager_headers)
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {
            "line": 3,
            "column": "value",
            "reason": "'high' is not a number (use a dot for decimals, like 1.5)",
        }
    ]
    assert _count(people, Measurement) == 22

    components = client.post(
        "/components/import",
        json=[{"name": "L2", "substation": "Hilltop", "component_type": "LINE",
               "length_km": 4, "voltage_kv": 20}],
        headers=manager_headers,
    )  # fmt: skip
    assert components.status_code == 200 and components.json()["inserted"] == 1
    assert _count(people, Component) == 4
    as_parquet = client.post(
        "/components/import",
        content=buffer.getvalue(),
        headers=manager_headers | {"Content-Type": "application/x-parquet"},
    )
    assert as_parquet.status_code == 400
    assert "components are imported from CSV" in as_parquet.json()["detail"]


def test_bodies_that_are_not_rows_are_refused_with_a_reason(client, manager_headers, grid, people):
    def post(content: bytes, content_type: str) -> object:
        return client.post(
            "/measurements/import",
            content=content,
            headers=manager_headers | {"Content-Type": content_type},
        )

    assert post(b"<xml/>", "application/xml").status_code == 415
    not_array = post(json.dumps({"value": 1}).encode(), "application/json")
    assert not_array.status_code == 400
    assert not_array.json() == {
        "detail": "body.json: must be a JSON array of objects, one per row",
        "problems": [],
    }
    broken = post(b"[{", "application/json")
    assert broken.status_code == 400 and "is not JSON" in broken.json()["detail"]
    items = post(b'[{"value": 1}, 7]', "application/json")
    assert items.status_code == 422
    assert items.json()["problems"] == [
        {"line": 3, "column": "", "reason": "is a number, not an object"}
    ]
    empty = post(b"", "text/csv")
    assert empty.status_code == 400 and empty.json()["detail"] == "body.csv: the file is empty"
    latin = post(
        "component_id,measurement_type,timestamp,value\n1,voltage,2024-01-01,1\u00e9\n".encode(
            "latin-1"
        ),
        "text/csv",
    )
    assert latin.status_code == 400 and "not UTF-8" in latin.json()["detail"]
    assert _count(people, Measurement) == 0


def test_a_body_over_the_limit_gets_413_and_writes_nothing(people):
    app = create_app(
        people,
        settings=SETTINGS.model_copy(update={"api_max_body_bytes": 2_000}),
        run_reports=False,
    )
    with TestClient(app) as client:
        from tests.api.conftest import MANAGER_PASSWORD, bearer, sign_in

        headers = bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
        client.post("/components/import", content=COMPONENTS_CSV, headers=headers | CSV)
        body = _readings(100).encode()
        assert len(body) > 2_000
        declared = client.post("/measurements/import", content=body, headers=headers | CSV)
        assert declared.status_code == 413
        assert declared.json() == {
            "detail": "the body is larger than 2000 bytes (GRIDBOARD_API_MAX_BODY_BYTES)",
            "problems": [],
        }

        def chunks():  # no Content-Length: the limit is found while the body streams in
            for start in range(0, len(body), 500):
                yield body[start : start + 500]

        streamed = client.post("/measurements/import", content=chunks(), headers=headers | CSV)
        assert streamed.status_code == 413
        small = client.post(
            "/measurements/import", content=_readings(5).encode(), headers=headers | CSV
        )
        assert small.status_code == 200
    assert _count(people, Measurement) == 5


def test_a_large_body_imports_in_a_child_process_with_the_same_answers(
    client, manager_headers, grid, people, monkeypatch
):
    # Every body counts as large here, so the child process path answers for each of them.
    monkeypatch.setattr("api.routers.imports.CHILD_FROM_BYTES", 0)
    children: list[str] = []

    async def counted(*args):
        children.append(args[3])
        return await import_in_child(*args)

    monkeypatch.setattr("api.routers.imports.import_in_child", counted)
    bad = client.post(
        "/measurements/import",
        content=_readings(3_000, bad_line=2_345),
        headers=manager_headers | CSV,
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["detail"] == "import refused, nothing was written: 1 problem"
    assert [problem["line"] for problem in bad.json()["problems"]] == [2_345]
    assert _count(people, Measurement) == 0
    body = _readings(3_000)
    first = client.post("/measurements/import", content=body, headers=manager_headers | CSV)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "file_name": "body.csv",
        "rows": 3_000,
        "inserted": 3_000,
        "skipped": 0,
        "overwritten": 0,
        "created_substations": [],
        "ignored_columns": [],
        "allow_implausible": False,
    }
    again = client.post("/measurements/import", content=body, headers=manager_headers | CSV)
    assert (again.json()["inserted"], again.json()["skipped"]) == (0, 3_000)
    assert _count(people, Measurement) == 3_000
    components = client.post(
        "/components/import", content=COMPONENTS_CSV, headers=manager_headers | CSV
    )
    assert components.status_code == 200, components.text
    assert (components.json()["inserted"], components.json()["skipped"]) == (0, 3)
    assert children == ["measurements"] * 3 + ["components"]
