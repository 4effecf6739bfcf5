"""Frames that arrive in batches written as one CSV, Parquet or JSON file a chunk at a time, so
a file of any length passes through the memory of one batch. See docs/architecture.md#reads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping

import polars as pl
import pyarrow.parquet as pq

from core.reports.export import table_csv

Schema = Mapping[str, pl.DataType | type[pl.DataType]]
# The one text of an instant in every CSV and JSON file and answer: ISO 8601 in UTC with a
# "Z", the fraction only where there is one (2024-05-01T13:45:00Z, ...T13:45:00.120Z); the
# imports read it back to the microsecond.
UTC_TEXT = "%Y-%m-%dT%H:%M:%S%.fZ"


def times_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every datetime column as ``UTC_TEXT`` (one without a zone is UTC)."""
    return frame.with_columns(
        (
            pl.col(name).dt.convert_time_zone("UTC") if dtype.time_zone else pl.col(name)
        ).dt.to_string(UTC_TEXT)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )


def csv_chunks(
    batches: Iterable[pl.DataFrame], schema: Schema, *, exact: bool = True
) -> Iterator[bytes]:
    """One CSV file (``table_csv``'s cells: formulas neutralised; times as ``UTC_TEXT``) in
    chunks: the header with the first batch, or alone when there is none."""
    header = True
    for batch in batches:
        yield table_csv(times_as_text(batch), exact=exact, header=header)
        header = False
    if header:
        yield table_csv(pl.DataFrame(schema=dict(schema)))


def json_chunks(batches: Iterable[pl.DataFrame]) -> Iterator[bytes]:
    """One JSON array of an object per row (times as ``UTC_TEXT``), in chunks; NaN and
    infinities are refused."""
    yield b"["
    separator = ""
    for batch in batches:
        if batch.height:
            rows = json.dumps(times_as_text(batch).to_dicts(), allow_nan=False)[1:-1]
            yield (separator + rows).encode("utf-8")
            separator = ", "
    yield b"]"


class _Pieces:
    """A write-only file that keeps what was written until it is taken, and counts its
    position as a whole file would (Parquet's footer records where each part starts)."""

    closed = False

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        piece = bytes(data)
        self._pieces.append(piece)
        self._position += len(piece)
        return len(piece)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        taken = b"".join(self._pieces)
        self._pieces.clear()
        return taken


def parquet_chunks(batches: Iterable[pl.DataFrame], schema: Schema) -> Iterator[bytes]:
    """One Parquet file, a row group per batch, in chunks (its footer in the last)."""
    pieces = _Pieces()
    arrow_schema = pl.DataFrame(schema=dict(schema)).to_arrow().schema
    with pq.ParquetWriter(pieces, arrow_schema) as writer:
        for batch in batches:
            if batch.height:
                writer.write_table(batch.to_arrow().cast(arrow_schema))
                yield pieces.take()
    yield pieces.take()
