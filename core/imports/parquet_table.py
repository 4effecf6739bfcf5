"""A Parquet file into a ``Table``, so it is checked exactly like the same data as CSV.

A Parquet file has no lines; problems name the data row as if the file were a CSV file with
a header: the first data row is line 2 (and "line 1" is the header, as for CSV). Typed values
become text first: numbers as their shortest exact decimal form, so ``value`` keeps every bit;
datetimes as ISO 8601 in UTC (a datetime without a time zone is taken as UTC, like text
without an offset); nulls as empty cells.
"""

from __future__ import annotations

import io

import polars as pl

from core.errors import UnreadableFile
from core.imports.table import LINE, ColumnsFor, Table, check_header

FIRST_DATA_LINE = 2


def _as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    expr = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            expr = expr.dt.replace_time_zone("UTC")
        utc = expr.dt.convert_time_zone("UTC")
        micros = utc.dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        if dtype.time_unit != "ns":
            return micros
        # Nanoseconds a microsecond cannot hold are shown, so the check refuses them.
        nanos = utc.dt.to_string("%Y-%m-%dT%H:%M:%S%.9f+00:00")
        return pl.when(utc.dt.nanosecond() % 1000 == 0).then(micros).otherwise(nanos)
    if isinstance(dtype, pl.Date):
        return expr.dt.to_string("%Y-%m-%d")
    if dtype == pl.String:
        return expr
    return expr.cast(pl.String)


def read_parquet_frame(data: bytes, file_name: str, *, rows: int | None = None) -> pl.DataFrame:
    """The file's columns as they are stored; ``UnreadableFile`` if it is not Parquet."""
    try:
        return pl.read_parquet(io.BytesIO(data), n_rows=rows)
    # A corrupt data page can make the Rust reader panic, which Python sees as a BaseException.
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as error:
        reason = str(error).split("\n", 1)[0].removeprefix("parquet: ")
        raise UnreadableFile(file_name, f"is not a readable Parquet file: {reason}") from None


def text_columns(frame: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Every column as text, nulls as empty cells; ``UnreadableFile`` for nested values."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    if nested:
        raise UnreadableFile(
            file_name, f"column {nested[0]!r} holds lists or records, not single values"
        )
    columns = []
    for name, dtype in frame.schema.items():
        try:
            columns.append(frame.select(_as_text(name, dtype).fill_null("").alias(name)))
        except pl.exceptions.PolarsError:
            # Durations, bytes that are not UTF-8, ...: no cell of such a column is valid.
            kind = (
                "bytes that are not UTF-8 text"
                if dtype == pl.Binary
                else f"{dtype} values, not text, numbers or dates"
            )
            raise UnreadableFile(file_name, f"column {name!r} holds {kind}") from None
    return pl.concat(columns, how="horizontal") if columns else frame


def read_parquet_table(data: bytes, *, file_name: str, columns_for: ColumnsFor) -> Table:
    stored = read_parquet_frame(data, file_name)
    names = check_header(stored.columns, columns_for=columns_for, file_name=file_name)
    frame = (
        text_columns(stored, file_name)
        .rename(dict(zip(stored.columns, names, strict=True)))
        .with_row_index(LINE, offset=FIRST_DATA_LINE)
        .with_columns(pl.col(LINE).cast(pl.Int64))
    )
    return Table(frame=frame, rows=frame.height, problems=())
