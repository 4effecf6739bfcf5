"""Report tables as files: CSV per table (same bytes for the same tables, formula cells
defused), one zip for the whole report. See docs/architecture.md#reports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import polars as pl

from core.reports import kpis

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SIGNIFICANT_DIGITS = 12
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _neutral(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def format_number(value: float) -> str:
    """``value`` with at most ``SIGNIFICANT_DIGITS`` significant digits, as a CSV cell."""
    return f"{value:.{SIGNIFICANT_DIGITS}g}"


def _cell(value: object, text: bool, *, exact: bool) -> object:
    if value is None:
        return None
    if text:
        return _neutral(str(value))
    if isinstance(value, float):
        return repr(value) if exact else format_number(value)
    return value


def table_csv(frame: pl.DataFrame, *, exact: bool = False, header: bool = True) -> bytes:
    """``frame`` as CSV: a header row (unless ``header`` is false: a later chunk of a file
    written in parts), then its rows; empty cells for nulls. Decimal numbers carry at most 12
    significant digits, or, ``exact``, every digit that reads back the same float (raw
    measurements, which an import must read back unchanged)."""
    texts = [dtype == pl.String for dtype in frame.dtypes]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow(
            _cell(cell, text, exact=exact) for cell, text in zip(row, texts, strict=True)
        )
    return buffer.getvalue().encode("utf-8")


def report_payload(tables: Mapping[str, pl.DataFrame]) -> dict[str, str]:
    """Every table of a report by name, as its CSV text: what a completed report stores."""
    return {name: table_csv(tables[name]).decode("utf-8") for name in kpis.TABLES}


def read_table_csv(name: str, data: str) -> pl.DataFrame:
    """A stored table back as a frame with its declared types."""
    if not data.strip():
        return pl.DataFrame(schema=kpis.SCHEMAS[name])
    return pl.read_csv(io.StringIO(data), schema=kpis.SCHEMAS[name])


METADATA_FILE = "report.json"


def report_zip_files(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """The files ``report_zip`` holds, in order: each table's CSV, then ``report.json``."""
    return [f"{name}.csv" for name in kpis.TABLES if name in tables] + [METADATA_FILE]


def report_zip(tables: Mapping[str, pl.DataFrame], metadata: Mapping[str, Any]) -> bytes:
    """Each table's CSV and ``report.json`` (the request and its provenance) in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file_name in report_zip_files(tables):
            info = zipfile.ZipInfo(file_name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if file_name == METADATA_FILE:
                data = json.dumps(metadata, indent=2, sort_keys=True, default=str).encode()
            else:
                data = table_csv(tables[file_name.removesuffix(".csv")])
            archive.writestr(info, data)
    return buffer.getvalue()
