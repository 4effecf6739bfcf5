"""Measurement import from Parquet: the same columns and rules as CSV, typed or text values.

A Parquet file has no lines: problems name the data row as if the file were CSV with a
header, so the first data row is line 2.
"""

from __future__ import annotations

import io
from datetime import datetime

import polars as pl
import pytest

from core.import_errors import UnreadableFile
from tests.imports.support import places, refusal, run_measurements, stored_measurements


def _parquet(columns: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame(columns).write_parquet(buffer)
    return buffer.getvalue()


def test_typed_columns_are_stored_exactly_and_in_utc(db, grid):
    data = _parquet(
        {
            "component_name": ["T1", "L1"],
            "Substation": ["Riverside", "Riverside"],
            "timestamp": pl.Series(  # wall-clock times in Berlin (UTC+2 in May)
                [datetime(2024, 5, 1, 13, 45), datetime(2024, 5, 1, 14, 0, 0, 250)]
            ).dt.replace_time_zone("Europe/Berlin"),
            "measurement_type": ["Voltage", "POWER"],
            "value": [0.1 + 0.2, -1e-300],
        }
    )
    summary = run_measurements(db, data, file_name="measurements.parquet")
    assert (summary.rows, summary.inserted) == (2, 2)
    assert stored_measurements(db) == [
        ("L1", "power", "2024-05-01T12:00:00.000250+00:00", -1e-300),
        ("T1", "voltage", "2024-05-01T11:45:00+00:00", 0.30000000000000004),
    ]


def test_text_columns_and_component_ids_are_read_too(db, grid):
    data = _parquet(
        {
            "component_id": [grid["S1"], grid["T1@Hilltop"]],
            "timestamp": ["2024-05-01T13:45:00+02:00", "2024-05-01T11:45:00"],
            "measurement_type": ["current", "current"],
            "value": ["0", "12.5"],
        }
    )
    # recognised by its content, whatever the name
    assert run_measurements(db, data, file_name="export.bin").inserted == 2
    assert [(name, ts) for name, _kind, ts, _value in stored_measurements(db)] == [
        ("S1", "2024-05-01T11:45:00+00:00"),
        ("T1", "2024-05-01T11:45:00+00:00"),
    ]


def test_a_naive_datetime_is_taken_as_utc(db, grid):
    data = _parquet(
        {
            "component_id": [grid["T1"]],
            "timestamp": [datetime(2024, 5, 1, 11, 45)],
            "measurement_type": ["power"],
            "value": [7],
        }
    )
    run_measurements(db, data, file_name="m.parquet")
    assert stored_measurements(db) == [("T1", "power", "2024-05-01T11:45:00+00:00", 7.0)]


def test_bad_rows_are_named_as_lines_after_a_header(db, grid):
    data = _parquet(
        {
            "component_id": [grid["T1"], grid["T1"], grid["T1"], None],
            "timestamp": [datetime(2024, 5, 1, 0, minute) for minute in range(3)] + [None],
            "measurement_type": ["power", "power", "power", "power"],
            "value": [1.0, 2.0, float("nan"), 4.0],
        }
    )
    error = refusal(run_measurements, db, data, file_name="m.parquet")
    assert places(error) == [(4, "value"), (5, "component_id"), (5, "timestamp")]
    assert "line 4, column value: 'NaN' is not a number" in str(error)
    assert stored_measurements(db) == []


def test_a_missing_column_is_named_on_line_1(db, grid):
    data = _parquet({"component_id": [1], "timestamp": ["2024-05-01"], "value": [1.0]})
    error = refusal(run_measurements, db, data, file_name="m.parquet")
    assert places(error) == [(1, "measurement_type")]


def test_a_broken_parquet_file_is_unreadable(db, grid):
    data = _parquet({"component_id": [1], "value": [1.0]})
    with pytest.raises(UnreadableFile, match="is not a readable Parquet file"):
        run_measurements(db, data[: len(data) // 2], file_name="m.parquet")
    with pytest.raises(UnreadableFile, match="is not a readable Parquet file"):
        run_measurements(db, b"component_id,timestamp\n", file_name="m.parquet")


def test_a_column_of_lists_is_unreadable(db, grid):
    data = _parquet(
        {
            "component_id": [grid["T1"]],
            "timestamp": ["2024-05-01"],
            "measurement_type": ["power"],
            "value": [[1.0, 2.0]],
        }
    )
    with pytest.raises(UnreadableFile, match="column 'value' holds lists or records"):
        run_measurements(db, data, file_name="m.parquet")
