"""A Parquet file into a ``Table``, checked exactly like the same data as CSV, measured from its
metadata before anything is decoded. See docs/architecture.md#imports."""

from __future__ import annotations

import io
from collections.abc import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.import_errors import RowProblems, UnreadableFile
from core.imports.limits import ImportLimits, import_limits
from core.imports.table import LINE, ColumnsFor, Table, check_header, check_width

FIRST_DATA_LINE = 2
_BATCH_ROWS = 65_536


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


def _unreadable(file_name: str, error: BaseException) -> UnreadableFile:
    reason = str(error).split("\n", 1)[0].removeprefix("parquet: ")
    return UnreadableFile(file_name, f"is not a readable Parquet file: {reason}")


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _is_nested(kind: pa.DataType) -> bool:
    return bool(pa.types.is_nested(kind))


def _open(data: bytes, file_name: str) -> pq.ParquetFile:
    """The file, its text columns read dictionary-encoded (so their size can be counted
    before they are decoded); ``UnreadableFile`` if it is not Parquet."""
    try:
        schema = pq.ParquetFile(io.BytesIO(data)).schema_arrow
        text = [field.name for field in schema if _is_text(field.type)]
        return pq.ParquetFile(io.BytesIO(data), read_dictionary=text)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise _unreadable(file_name, error) from None


def _check_before_reading(
    parquet: pq.ParquetFile, file_name: str, limits: ImportLimits, *, whole: bool
) -> None:
    metadata = parquet.metadata
    check_width(metadata.num_columns, file_name)
    nested = [field.name for field in parquet.schema_arrow if _is_nested(field.type)]
    if nested:
        raise UnreadableFile(
            file_name, f"column {nested[0]!r} holds lists or records, not single values"
        )
    groups = range(metadata.num_row_groups) if whole else range(min(1, metadata.num_row_groups))
    if whole:
        limits.check_rows(metadata.num_rows, file_name)
    uncompressed = sum(
        metadata.row_group(group).column(column).total_uncompressed_size
        for group in groups
        for column in range(metadata.num_columns)
    )
    limits.check_bytes(uncompressed, file_name, what="its data uncompressed")


def _text_bytes(batch: pa.RecordBatch) -> int:
    """How many bytes of text the batch's text columns hold once decoded."""
    total = 0
    for column in batch.columns:
        if pa.types.is_dictionary(column.type) and _is_text(column.type.value_type):
            lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
            total += int(pc.sum(lengths).as_py() or 0)
        elif _is_text(column.type):
            total += int(pc.sum(pc.binary_length(column)).as_py() or 0)
    return total


def _decoded(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns = [
        column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _batches(parquet: pq.ParquetFile, rows: int | None) -> Iterator[pa.RecordBatch]:
    wanted = parquet.metadata.num_rows if rows is None else rows
    size = max(1, min(_BATCH_ROWS, wanted))
    read = 0
    for batch in parquet.iter_batches(batch_size=size, use_threads=False):
        if read >= wanted:
            return
        taken = batch.slice(0, wanted - read)
        read += taken.num_rows
        yield taken


def read_parquet_frame(data: bytes, file_name: str, *, rows: int | None = None) -> pl.DataFrame:
    """The file's columns as they are stored (the first ``rows`` of them, or all);
    ``UnreadableFile`` if it is not Parquet or exceeds the import limits."""
    limits = import_limits()
    parquet = _open(data, file_name)
    _check_before_reading(parquet, file_name, limits, whole=rows is None)
    frames: list[pl.DataFrame] = []
    text_bytes = 0
    try:
        for batch in _batches(parquet, rows):
            text_bytes += _text_bytes(batch)
            limits.check_bytes(text_bytes, file_name, what="its text once decoded")
            frame = pl.from_arrow(_decoded(batch))
            assert isinstance(frame, pl.DataFrame)
            frames.append(frame)
        if not frames:
            empty = pl.from_arrow(parquet.schema_arrow.empty_table())
            assert isinstance(empty, pl.DataFrame)
            return empty
        return pl.concat(frames, rechunk=False)
    # A corrupt data page can make a reader panic, which Python sees as a BaseException.
    except (pa.ArrowException, OSError, ValueError, pl.exceptions.PolarsError) as error:
        raise _unreadable(file_name, error) from None


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
    return Table(frame=frame, rows=frame.height, problems=RowProblems()).without_ignored()
