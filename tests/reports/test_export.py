"""``table_csv`` writes every report CSV (the page's downloads, the zip, ``gridboard report
--out`` and the copy stored with the report); ``read_table_csv`` reads the stored copy back.
The formula rules are ``tests/security/test_csv_export.py``'s."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from core.reports import kpis
from core.reports.export import read_table_csv, table_csv


def test_a_table_is_written_as_rfc_4180_csv():
    frame = pl.DataFrame(
        {"component_type": ['=HYPERLINK("x")', "line", None], "count": [-1, 2, None]}
    )
    assert table_csv(frame) == (
        b"component_type,count\r\n"
        b'"\'=HYPERLINK(""x"")",-1\r\n'  # neutralised, quoted, inner quotes doubled
        b"line,2\r\n"
        b",\r\n"  # nulls are empty cells
    )


SAMPLES: dict[type[pl.DataType], list[object]] = {
    pl.String: ["transformer", "line"],
    pl.Int64: [-3, 12],
    pl.Float64: [-0.1, 14.27],  # report numbers carry 12 significant digits (see below)
    pl.Date: [date(2024, 2, 29), date(1999, 12, 31)],
}


@pytest.mark.parametrize("name", kpis.TABLES)
def test_a_stored_table_reads_back_as_it_was_written(name):
    schema = kpis.SCHEMAS[name]
    frame = pl.DataFrame(
        {column: SAMPLES[type(dtype)] for column, dtype in schema.items()}, schema=schema
    )
    assert read_table_csv(name, table_csv(frame).decode()).equals(frame)
    empty = pl.DataFrame(schema=schema)
    assert read_table_csv(name, table_csv(empty).decode()).equals(empty)


def test_raw_values_are_written_exactly_and_report_numbers_to_twelve_digits():
    frame = pl.DataFrame({"value": [0.1 + 0.2, 230.123456789012345, 100.0]})
    assert table_csv(frame).decode().splitlines()[1:] == ["0.3", "230.123456789", "100"]
    exact = table_csv(frame, exact=True).decode().splitlines()[1:]
    assert exact == ["0.30000000000000004", "230.12345678901235", "100.0"]
    assert [float(cell) for cell in exact] == frame["value"].to_list()  # reads back the same
