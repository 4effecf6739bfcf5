"""The command line under hostile files and arguments: exit 1 (or 2 for a usage error) with a
message naming the problem, never a traceback, and nothing written."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from core.cli import main
from core.models import Component, Measurement, MeasurementRollup
from tests.factories import TRANSFORMER, make_component


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _counts(db) -> list[int]:
    with db.read() as session:
        return [
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Component, Measurement, MeasurementRollup)
        ]


HEADER = "component_name,substation,timestamp,measurement_type,value\n"
GOOD = _parquet(
    pa.table(
        {
            "component_name": ["T1"] * 40,
            "substation": ["Riverside"] * 40,
            "timestamp": [f"2024-05-01T00:{m:02d}:00Z" for m in range(40)],
            "measurement_type": ["voltage"] * 40,
            "value": [float(m) for m in range(40)],
        }
    )
)
FILES = {
    "utf16.csv": ((HEADER + "T1,Riverside,2024-05-01,voltage,1\n").encode("utf-16"), "UTF-16"),
    "latin1.csv": ((HEADER + "T1,Rivérside,2024-05-01,voltage,1\n").encode("latin-1"), "0xE9"),
    "semicolon.csv": (HEADER.replace(",", ";").encode(), "separated by ';'"),
    "garbage.csv": (bytes(range(256)) * 4, "binary"),
    "empty.csv": (b"", "empty"),
    "truncated.parquet": (GOOD[: len(GOOD) // 2], "not a readable Parquet file"),
    "corrupt.parquet": (GOOD[:200] + b"\xff" * 64 + GOOD[264:], "Parquet"),
    "mistyped.parquet": (
        _parquet(
            pa.table(
                {
                    "component_id": [1],
                    "timestamp": [1],
                    "measurement_type": ["voltage"],
                    "value": pa.array([b"\xff"], pa.binary()),
                }
            )
        ),
        "not UTF-8",
    ),
    "instant.csv": (
        (HEADER + "T1,Riverside,0001-01-01T00:00:00+01:00,voltage,1\n").encode(),
        "outside the years 1 to 9999",
    ),
    "huge.csv": ((HEADER + "T1,Riverside,2024-05-01,voltage,1e308\n").encode(), "out of range"),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_hostile_measurements_file_exits_1_with_the_reason(db, tmp_path, capsys, name):
    make_component(db, TRANSFORMER)
    data, reason = FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    before = _counts(db)
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "import-measurements", str(path)]) == 1
    err = capsys.readouterr().err
    assert reason in err
    assert "Traceback" not in err
    assert _counts(db) == before


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        ("0001-01-01T00:00+01:00", "outside the years"),
        ("2024-05-01T13:45,5", "is not an ISO 8601 timestamp"),
        ("2024-05-01x00:00", "is not an ISO 8601 timestamp"),
        ("9" * 5000, "is not an ISO 8601 timestamp"),
    ],
)
def test_a_hostile_report_period_is_a_usage_error(db, tmp_path, capsys, timestamp, reason):
    url = db.engine.url.render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exit_:
        main(["--database-url", url, "report", "--out", str(tmp_path), "--start", timestamp])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    said = [r for r in ("outside the years", "is not an ISO 8601 timestamp") if r in err]
    assert said == [reason]
    assert "Traceback" not in err and len(err) < 2000
