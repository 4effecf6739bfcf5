"""A file of many bad rows is refused with its first problems and the count of the rest, in
memory that does not grow with the number of problems (CSV, Parquet and JSON; both imports)."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable
from typing import Any

import polars as pl

from core.import_errors import SHOWN_PROBLEMS, ImportRejection
from tests.imports.support import (
    components_file,
    measurements_file,
    refusal,
    run_components,
    run_measurements,
    stored_measurements,
)

BAD_ROWS = 200_000
COMPONENT_ROWS = 50_000  # each checked in Python: slower under tracemalloc


def _traced_peak(action: Callable[[], Any]) -> tuple[Any, int]:
    """What ``action`` raised or returned, and the peak of Python's own allocations meanwhile
    (the Polars frames are not counted: the problems a refusal keeps are Python objects)."""
    tracemalloc.start()
    try:
        try:
            outcome: Any = action()
        except ImportRejection as error:
            outcome = error
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _bad_values(rows: int) -> bytes:
    return measurements_file(
        *(f"T1,Riverside,2024-05-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},"
          f"voltage,bad" for i in range(rows))
    )  # fmt: skip


def test_a_csv_of_many_bad_rows_lists_the_first_100_and_counts_the_rest_in_bounded_memory(db, grid):
    data = _bad_values(BAD_ROWS)
    error, peak = _traced_peak(lambda: run_measurements(db, data))
    assert isinstance(error, ImportRejection)
    # Python holds the file twice (bytes and text) and more while reading it; 200,000
    # problems kept would add about 60 MB.
    assert peak < 6 * len(data)
    assert [p.line for p in error.problems] == list(range(2, SHOWN_PROBLEMS + 2))
    assert error.problems[0].reason == "'bad' is not a number (use a dot for decimals, like 1.5)"
    assert error.total > BAD_ROWS  # every row's value, and the timestamps repeated past a day
    assert str(error).endswith(f"... and {error.total - SHOWN_PROBLEMS:,} more problems")
    assert stored_measurements(db) == []


def test_rows_of_the_wrong_width_and_bad_cells_are_counted_together(db, grid):
    rows = [f"T1,Riverside,2024-05-01T00:00:{i % 60:02d},voltage" for i in range(50_000)]
    rows[10] = "T1,Riverside,2024-05-01T00:00:00Z,voltage,bad"
    error = refusal(run_measurements, db, measurements_file(*rows))
    assert error.total == 50_000
    assert error.problems[0].reason == "has 4 fields but the header has 5"
    assert (error.problems[9].line, error.problems[10].line) == (11, 12)
    assert error.problems[10].column == "value"
    assert len(error.problems) == SHOWN_PROBLEMS


def test_a_parquet_file_of_many_bad_rows_is_refused_the_same_way(db, grid):
    frame = pl.DataFrame(
        {
            "component_name": ["T9"] * BAD_ROWS,
            "substation": ["Riverside"] * BAD_ROWS,
            "timestamp": [f"2024-05-01T00:00:{i % 60:02d}" for i in range(BAD_ROWS)],
            "measurement_type": ["voltage"] * BAD_ROWS,
            "value": ["1"] * BAD_ROWS,
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    error, peak = _traced_peak(
        lambda: run_measurements(db, buffer.getvalue(), file_name="rows.parquet")
    )
    assert isinstance(error, ImportRejection)
    assert peak < 8 << 20  # 200,000 problems kept were about 64 MB
    assert error.total == BAD_ROWS
    assert [p.line for p in error.problems] == list(range(2, SHOWN_PROBLEMS + 2))
    assert error.problems[0].reason == "there is no component 'T9' in substation 'Riverside'"


def test_a_components_file_of_many_bad_rows_keeps_only_what_it_shows(db):
    rows = [f"C{i},Riverside,transformer,-1,110,," for i in range(COMPONENT_ROWS)]
    error, peak = _traced_peak(lambda: run_components(db, components_file(*rows)))
    assert isinstance(error, ImportRejection)
    data = components_file(*rows)
    assert peak < 10 * len(data)  # every problem kept was about 14 bytes of file more
    assert error.total == COMPONENT_ROWS
    assert len(error.problems) == SHOWN_PROBLEMS
    assert error.problems[-1].line == SHOWN_PROBLEMS + 1
    assert error.hidden_count == COMPONENT_ROWS - SHOWN_PROBLEMS
