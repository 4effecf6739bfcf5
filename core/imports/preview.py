"""The first rows of a file as text, for the page to show before the import runs.
See docs/design.md#import-formats."""

from __future__ import annotations

import csv
import io
from itertools import islice
from pathlib import Path

import polars as pl

from core.import_errors import UnreadableFile
from core.imports.files import decode_text, is_parquet, read_bytes
from core.imports.parquet_table import FIRST_DATA_LINE, read_parquet_frame, text_columns
from core.imports.table import (
    LINE,
    check_width,
    field_count_problem,
    is_blank_record,
    single_column_reason,
)

# A column the preview adds when a row has more or fewer fields than the header (an
# unquoted decimal comma, "12,5", is two fields): what the import will say about that line.
PROBLEM = "problem"


def preview_file(*, source: bytes | Path, file_name: str, rows: int = 20) -> pl.DataFrame:
    """Up to ``rows`` data rows under the file's own header, every cell as text, with the
    ``line`` each starts on (the numbers a rejected import names); ``UnreadableFile`` for a
    file that no import could read."""
    data = read_bytes(source, file_name)
    if not data:
        raise UnreadableFile(file_name, "the file is empty")
    if is_parquet(data, file_name):
        stored = read_parquet_frame(data, file_name, rows=rows)
        frame = text_columns(stored, file_name).with_row_index(LINE, offset=FIRST_DATA_LINE)
        return frame.with_columns(pl.col(LINE).cast(pl.Int64))
    return _csv_preview(decode_text(data, file_name), file_name, rows)


def _unique_names(header: list[str]) -> list[str]:
    """The header's names, trimmed, each made unique with primes (``a``, ``a'``, ``a''``);
    the count of primes each name has used is kept, so no name is tried twice."""
    taken = {LINE}
    primes: dict[str, int] = {}
    names: list[str] = []
    for position, raw in enumerate(header, start=1):
        base = raw.strip() or f"column {position}"
        count = primes.get(base, 0)
        name = base + "'" * count
        while name in taken:
            count += 1
            name += "'"
        primes[base] = count
        taken.add(name)
        names.append(name)
    return names


def _csv_preview(text: str, file_name: str, rows: int) -> pl.DataFrame:
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for fields in reader:
            if not is_blank_record(fields):
                records.append((start, fields))
                if len(records) > rows:
                    break
            start = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(
            file_name, f"the CSV record that starts on line {start} cannot be read ({error})"
        ) from None
    if not records:
        raise UnreadableFile(file_name, "the file is empty")
    _header_line, header = records[0]
    check_width(len(header), file_name)
    reason = single_column_reason(header)
    if reason:
        raise UnreadableFile(file_name, reason)
    names = _unique_names(header)
    width = len(names)
    body = [(line, (fields + [""] * width)[:width]) for line, fields in islice(records, 1, None)]
    columns = list(zip(*(fields for _line, fields in body), strict=True)) or [()] * width
    problems = [
        "" if len(fields) == width else field_count_problem(line, len(fields), width).reason
        for line, fields in islice(records, 1, None)
    ]
    return pl.DataFrame(
        [pl.Series(LINE, [line for line, _fields in body], dtype=pl.Int64)]
        + [
            pl.Series(name, column, dtype=pl.String)
            for name, column in zip(names, columns, strict=True)
        ]
        + ([pl.Series(PROBLEM, problems, dtype=pl.String)] if any(problems) else [])
    )
