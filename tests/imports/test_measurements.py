"""Measurement import from CSV: what is stored, what is counted, and what is refused where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import MissingPermission
from tests.factories import USER
from tests.imports.support import (
    csv_file,
    measurements_file,
    places,
    refusal,
    run_measurements,
    stored_measurements,
)

T = "2024-05-01T11:45:00"


def test_rows_are_stored_in_utc_with_lowercase_types(db, grid):
    summary = run_measurements(
        db,
        measurements_file(
            "T1,Riverside,2024-05-01T13:45:00+02:00,Voltage,110.5",
            " L1 , Riverside ,2024-05-01T11:45:00Z,CURRENT,140",
            "T1,Hilltop,2024-05-01T11:45:00,power,1e1",
        ),
    )
    assert (summary.rows, summary.inserted, summary.skipped, summary.overwritten) == (3, 3, 0, 0)
    assert summary.file_name == "measurements.csv"
    assert stored_measurements(db) == [
        ("L1", "current", "2024-05-01T11:45:00+00:00", 140.0),
        ("T1", "power", "2024-05-01T11:45:00+00:00", 10.0),
        ("T1", "voltage", "2024-05-01T11:45:00+00:00", 110.5),
    ]


def test_component_id_may_replace_name_and_substation(db, grid):
    data = csv_file(
        "component_id,timestamp,measurement_type,value",
        f"{grid['L1']},{T},power,2.5",
        f"{grid['T1@Hilltop']},{T},power,3.5",
    )
    assert run_measurements(db, data).inserted == 2
    assert [(name, value) for name, _kind, _ts, value in stored_measurements(db)] == [
        ("L1", 2.5),
        ("T1", 3.5),
    ]


def test_bom_crlf_and_a_free_header_are_read(db, grid):
    data = b"\xef\xbb\xbf" + csv_file(
        " Value ,TIMESTAMP,Measurement_Type,substation,COMPONENT_NAME",
        f"7.25,{T},voltage,Riverside,T1",
        newline="\r\n",
    )
    assert run_measurements(db, data).inserted == 1
    assert stored_measurements(db) == [("T1", "voltage", f"{T}+00:00", 7.25)]


def test_a_header_only_file_imports_nothing(db, grid):
    summary = run_measurements(db, measurements_file())
    assert (summary.rows, summary.inserted) == (0, 0)


def test_blank_lines_are_skipped_but_keep_their_line_numbers(db, grid):
    data = measurements_file("", f"T1,Riverside,{T},voltage,1", "   ", f"T1,Riverside,{T},power,x")
    error = refusal(run_measurements, db, data)
    assert places(error) == [(5, "value")]


def test_a_quoted_line_break_shifts_the_lines_that_follow(db, grid):
    data = measurements_file(
        f'"T1",Riverside,{T},voltage,1',
        f'"L\n1",Riverside,{T},voltage,1',  # lines 3 and 4
        f'T1,"River, side",{T},power,2',
        f"T1,Riverside,{T},current,oops",
    )
    error = refusal(run_measurements, db, data)
    assert places(error) == [(3, "component_name"), (5, "substation"), (6, "value")]
    assert "there is no substation 'River, side'" in str(error)
    assert stored_measurements(db) == []


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (f"T9,Riverside,{T},voltage,1", "component_name", "no component 'T9' in substation"),
        (f"T1,Nowhere,{T},voltage,1", "substation", "no substation 'Nowhere'"),
        (f",Riverside,{T},voltage,1", "component_name", "must not be empty"),
        (f"T1,,{T},voltage,1", "substation", "must not be empty"),
        (f"T1,Riverside,{T},frequency,1", "measurement_type", "'frequency' is not one of"),
        (f"T1,Riverside,{T},,1", "measurement_type", "is required"),
        (f"T1,Riverside,{T},voltage,nan", "value", "'nan' is not a number"),
        (f"T1,Riverside,{T},voltage,inf", "value", "'inf' is not a number"),
        (f"T1,Riverside,{T},voltage,-Infinity", "value", "'-Infinity' is not a number"),
        (f"T1,Riverside,{T},voltage,1e999", "value", "'1e999' is not a finite number"),
        (f'T1,Riverside,{T},voltage,"1,5"', "value", "'1,5' is not a number (use a dot"),
        (f"T1,Riverside,{T},voltage,1_000", "value", "'1_000' is not a number"),
        (f"T1,Riverside,{T},voltage,", "value", "a number is required"),
        (f"T1,Riverside,{T},voltage,0x10", "value", "is not a number"),
        ("T1,Riverside,yesterday,voltage,1", "timestamp", "'yesterday' is not an ISO 8601"),
        ("T1,Riverside,2024-13-01T00:00:00,voltage,1", "timestamp", "is not an ISO 8601"),
        ("T1,Riverside,2024-05-01T25:00,voltage,1", "timestamp", "is not an ISO 8601"),
        ("T1,Riverside,,voltage,1", "timestamp", "a timestamp is required"),
        (f"T1,Riverside,{T},voltage", "", "has 4 fields but the header has 5"),
        (f"T1,Riverside,{T},voltage,1,2", "", "has 6 fields but the header has 5"),
    ],
)
def test_each_bad_cell_is_named_by_line_and_column(db, grid, row, column, reason):
    data = measurements_file(f"L1,Riverside,{T},current,5", row)
    error = refusal(run_measurements, db, data)
    assert places(error) == [(3, column)]
    assert reason in error.problems[0].reason
    assert f"line 3{', column ' + column if column else ''}: " in str(error)
    assert stored_measurements(db) == []


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (f"999,{T},voltage,1", "there is no component with id 999"),
        (f"T1,{T},voltage,1", "'T1' is not a component id"),
        (f"1.5,{T},voltage,1", "'1.5' is not a component id"),
        (f",{T},voltage,1", "a component id is required"),
    ],
)
def test_a_bad_component_id_is_named(db, grid, row, reason):
    error = refusal(
        run_measurements, db, csv_file("component_id,timestamp,measurement_type,value", row)
    )
    assert places(error) == [(2, "component_id")]
    assert reason in str(error)


def test_every_bad_cell_of_a_row_is_reported_at_once(db, grid):
    error = refusal(run_measurements, db, measurements_file("T9,Riverside,noon,speed,abc"))
    assert places(error) == [
        (2, "component_name"),
        (2, "measurement_type"),
        (2, "timestamp"),
        (2, "value"),
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("component_name,substation,timestamp,value", [(1, "measurement_type")]),
        ("component_name,substation,timestamp,measurement_type,value,unit", [(1, "unit")]),
        (
            "component,substation,timestamp,measurement_type,value",
            [(1, "component"), (1, "component_name")],
        ),
        ("component_id,component_name,timestamp,measurement_type,value", [(1, "component_name")]),
        ("component_name,substation,timestamp,measurement_type,value,value", [(1, "value")]),
    ],
)
def test_a_missing_unknown_or_repeated_column_is_named_on_line_1(db, grid, header, expected):
    error = refusal(run_measurements, db, csv_file(header, f"T1,Riverside,{T},voltage,1"))
    assert places(error) == expected
    assert stored_measurements(db) == []


def test_the_same_key_twice_names_the_later_line_and_the_earlier_one(db, grid):
    data = measurements_file(
        "T1,Riverside,2024-05-01T13:45:00+02:00,voltage,1",
        "T1,Riverside,2024-05-01T11:45:00+02:00,voltage,2",  # another instant
        "T1,Riverside,2024-05-01T11:45:00Z,VOLTAGE,3",  # the instant of line 2, in UTC
        "T1,Hilltop,2024-05-01T11:45:00Z,voltage,4",  # another component
        "T1,Riverside,2024-05-01T11:45:00,voltage,5",  # line 2 again
    )
    error = refusal(run_measurements, db, data)
    assert places(error) == [(4, ""), (6, "")]
    assert "line 4: repeats line 2: the same component, measurement type and timestamp" in str(
        error
    )
    assert "(2024-05-01 11:45:00 UTC)" in str(error)
    assert stored_measurements(db) == []


def test_stored_keys_are_skipped_unless_overwritten(db, grid):
    run_measurements(db, measurements_file(f"T1,Riverside,{T},voltage,1"))
    again = measurements_file(f"T1,Riverside,{T}+00:00,voltage,2", f"L1,Riverside,{T},power,3")

    skipped = run_measurements(db, again)
    assert (skipped.rows, skipped.inserted, skipped.skipped, skipped.overwritten) == (2, 1, 1, 0)
    assert stored_measurements(db)[-1] == ("T1", "voltage", f"{T}+00:00", 1.0)

    replaced = run_measurements(db, again, overwrite=True)
    assert (replaced.inserted, replaced.skipped, replaced.overwritten) == (0, 0, 2)
    assert stored_measurements(db) == [
        ("L1", "power", f"{T}+00:00", 3.0),
        ("T1", "voltage", f"{T}+00:00", 2.0),
    ]


def test_a_user_may_not_import(db, grid):
    with pytest.raises(MissingPermission, match="import measurements"):
        run_measurements(db, measurements_file(f"T1,Riverside,{T},voltage,1"), actor=USER)
    assert stored_measurements(db) == []


def test_more_than_100_problems_show_100_and_count_the_rest(db, grid):
    rows = [
        f"T1,Riverside,2024-05-01T00:{i // 60:02d}:{i % 60:02d},voltage,bad" for i in range(150)
    ]
    error = refusal(run_measurements, db, measurements_file(*rows))
    assert error.total == 150
    assert len(error.shown) == 100
    assert error.shown[0].line == 2 and error.shown[-1].line == 101
    assert error.hidden_count == 50
    assert str(error).endswith("... and 50 more problems")


def _large_file(rows: int, *, bad_line: int | None = None) -> bytes:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return measurements_file(
        *(
            f"L1,Riverside,{(start + timedelta(seconds=i)).isoformat()},power,"
            + ("n/a" if i + 2 == bad_line else f"{i % 100}.5")  # MW a 20 kV line carries
            for i in range(rows)
        )
    )


def test_a_bad_row_deep_in_a_large_file_is_found_and_nothing_is_written(db, grid):
    error = refusal(run_measurements, db, _large_file(60_000, bad_line=50_001))
    assert places(error) == [(50_001, "value")]
    assert "line 50001, column value: 'n/a' is not a number" in str(error)
    assert stored_measurements(db) == []


def test_a_large_file_is_written_whole_with_progress(db, grid):
    fractions: list[float] = []
    summary = run_measurements(db, _large_file(60_000), progress=fractions.append)
    assert (summary.rows, summary.inserted) == (60_000, 60_000)
    assert len(stored_measurements(db)) == 60_000
    assert fractions == sorted(fractions)
    assert fractions[0] >= 0 and fractions[-1] == 1.0
