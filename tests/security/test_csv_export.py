"""Exported CSVs cannot run formulas in a spreadsheet: every text cell of every exported table
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``;
numbers, negative ones included, are written as numbers.

Every CSV GridBoard exports goes through ``core.reports.export.table_csv``: a report table
on the Report page, the report zip, and ``gridboard report --out``. A static check keeps it so.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from core.reports import kpis
from core.reports.export import FORMULA_STARTS, report_zip, table_csv

ROOT = Path(__file__).resolve().parents[2]
DANGEROUS = [
    '=HYPERLINK("https://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _hostile_table(name: str) -> pl.DataFrame:
    """The table ``name`` with a formula in every text cell and a negative number in every
    numeric one."""
    rows = len(DANGEROUS)
    columns = {}
    for column, dtype in kpis.SCHEMAS[name].items():
        if dtype == pl.String:
            columns[column] = DANGEROUS
        elif dtype == pl.Date:
            columns[column] = [date(2024, 5, day + 1) for day in range(rows)]
        elif dtype == pl.Int64:
            columns[column] = [-(day + 1) for day in range(rows)]
        else:
            columns[column] = [-5.2 - day for day in range(rows)]
    return pl.DataFrame(columns, schema=kpis.SCHEMAS[name])


def _cells(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def _assert_safe(name: str, data: bytes) -> None:
    schema = kpis.SCHEMAS[name]
    rows = _cells(data)
    assert len(rows) == len(DANGEROUS)
    for index, row in enumerate(rows):
        for column, dtype in schema.items():
            cell = row[column]
            if dtype == pl.String:
                assert cell == "'" + DANGEROUS[index], (name, column, cell)
                assert not cell.startswith(FORMULA_STARTS)
            elif dtype == pl.Int64:
                assert cell == str(-(index + 1)), (name, column, cell)
            elif dtype == pl.Float64:
                assert float(cell) == pytest.approx(-5.2 - index) and cell.startswith("-")


@pytest.mark.parametrize("name", kpis.TABLES)
def test_every_text_column_of_every_table_is_neutralised_and_numbers_are_not(name):
    _assert_safe(name, table_csv(_hostile_table(name)))


def test_a_negative_number_is_written_as_the_number():
    data = table_csv(_hostile_table(kpis.LINE_LENGTH)).decode()
    assert data.splitlines()[1] == "-5.2,-1,-5.2"


def test_every_csv_in_the_report_zip_is_neutralised():
    tables = {name: _hostile_table(name) for name in kpis.TABLES}
    with zipfile.ZipFile(io.BytesIO(report_zip(tables, {"id": 1}))) as archive:
        for name in kpis.TABLES:
            _assert_safe(name, archive.read(f"{name}.csv"))


def test_text_that_only_looks_dangerous_later_is_left_alone():
    frame = pl.DataFrame({"component_type": ["a=1", "x-1", " =1", "line"], "count": [1, 2, 3, 4]})
    rows = _cells(table_csv(frame))
    assert [row["component_type"] for row in rows] == ["a=1", "x-1", " =1", "line"]


WRITERS = re.compile(r"\.write_csv\(|csv\.writer|\.to_csv\(|csv\.DictWriter")
# Not exports: the measurement store streams rows into PostgreSQL's COPY.
NOT_EXPORTS = {"core/reports/export.py", "core/measurements/measurement_store.py"}


def test_every_csv_export_goes_through_table_csv():
    sources = [
        ROOT / "app.py",
        *ROOT.glob("core/**/*.py"),
        *ROOT.glob("api/**/*.py"),
        *ROOT.glob("views/*.py"),
        *ROOT.glob("pages/*.py"),
    ]
    writers = {
        str(path.relative_to(ROOT))
        for path in sources
        if WRITERS.search(path.read_text(encoding="utf-8"))
    }
    assert writers <= NOT_EXPORTS, f"CSV written without table_csv in {writers - NOT_EXPORTS}"
    for page in ("pages/report.py", "core/cli/reports.py", "api/routers/reports.py"):
        assert "table_csv(" in (ROOT / page).read_text(encoding="utf-8")
