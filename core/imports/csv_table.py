"""CSV text into a ``Table``, keeping the line where each record starts: a vectorised path, or
Python's ``csv`` record by record. See docs/architecture.md#imports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from itertools import islice

import polars as pl

from core.import_errors import SHOWN_PROBLEMS, RowProblems, UnreadableFile
from core.imports.limits import import_limits
from core.imports.table import (
    LINE,
    ColumnsFor,
    Table,
    check_header,
    field_count_problem,
    is_blank_record,
)

Progress = Callable[[float], None]

_CHUNK_RECORDS = 100_000
_CHUNK_CHARS = 4_000_000
_SIMPLY_QUOTED = r'^(?:"[^",]*"|[^",]*)(?:,(?:"[^",]*"|[^",]*))*$'


def read_csv_table(
    text: str,
    *,
    file_name: str,
    columns_for: ColumnsFor,
    optional: Sequence[str] = (),
    progress: Progress | None = None,
) -> Table:
    """The records of ``text`` (a whole CSV file) under its checked header, without the
    information columns (``Table.without_ignored``)."""
    progress = _never_backwards(progress)
    header, header_start, header_end = _header(text, file_name)
    names = check_header(
        header, columns_for=columns_for, file_name=file_name, line=header_start, optional=optional
    )
    lines = text.count("\n") + (not text.endswith("\n"))
    import_limits().check_rows(
        lines - header_end, file_name, what=("line after the header", "lines after the header")
    )
    table = _fast_table(text, names, first_line=header_end + 1, progress=progress)
    if table is None:
        table = _exact_table(
            text, names, first_line=header_end + 1, file_name=file_name, progress=progress
        )
    if progress:
        progress(1.0)
    return table.without_ignored()


def _never_backwards(progress: Progress | None) -> Progress | None:
    """``progress``, quiet when the exact path starts over after the fast one gave up."""
    if progress is None:
        return None
    done = 0.0

    def report(fraction: float) -> None:
        nonlocal done
        if fraction > done:
            done = fraction
            progress(fraction)

    return report


class _UnreadableRecord(Exception):
    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


def _records(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of each record, blank ones included."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for fields in reader:
            end = reader.line_num
            yield start, end, fields
            start = end + 1
    except csv.Error as error:
        raise _UnreadableRecord(start, str(error)) from None


def _header(text: str, file_name: str) -> tuple[list[str], int, int]:
    """The first non-blank record and the lines it starts and ends on."""
    try:
        for start, end, fields in _records(text):
            if not is_blank_record(fields):
                return fields, start, end
    except _UnreadableRecord as error:
        raise UnreadableFile(
            file_name, f"the header cannot be read as CSV: {error.reason}"
        ) from None
    raise UnreadableFile(file_name, "the file is empty")


def _empty_frame(names: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(schema={LINE: pl.Int64, **dict.fromkeys(names, pl.String)})


def _frame(lines: list[int], rows: list[list[str]], names: tuple[str, ...]) -> pl.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pl.DataFrame(
        [pl.Series(LINE, lines, dtype=pl.Int64)]
        + [
            pl.Series(name, column, dtype=pl.String)
            for name, column in zip(names, columns, strict=True)
        ]
    )


def _line_chunks(text: str) -> Iterator[tuple[int, int, str]]:
    """(number of its first line, end offset, piece) for pieces of ``text`` that end at a
    line break, so that a big file is never split into lines all at once."""
    first_line, start = 1, 0
    while start < len(text):
        end = text.find("\n", start + _CHUNK_CHARS)
        end = len(text) if end < 0 else end + 1
        piece = text[start:end]
        yield first_line, end, piece
        first_line += piece.count("\n")
        start = end


def _fast_table(
    text: str, names: tuple[str, ...], *, first_line: int, progress: Progress | None
) -> Table | None:
    """The table, if no record spans lines; ``None`` if the exact path must read the file."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None  # a bare carriage return ends a line for csv and editors, not for split
    frames = [_empty_frame(names)]
    problems = RowProblems()
    for piece_line, end, piece in _line_chunks(text):
        found = _fast_piece(piece, piece_line, names, first_line=first_line, problems=problems)
        if found is None:
            return None
        frames.append(found)
        if progress:
            progress(end / len(text))
    frame = pl.concat(frames)
    return Table(frame=frame, rows=frame.height + problems.total, problems=problems)


def _fast_piece(
    piece: str, piece_line: int, names: tuple[str, ...], *, first_line: int, problems: RowProblems
) -> pl.DataFrame | None:
    """The piece's records; adds its records of the wrong width to ``problems``, but only
    once the piece is known to be read here (``None``: the exact path must read the file)."""
    width = len(names)
    lines = (
        pl.Series("raw", [piece])
        .str.split("\n")
        .explode()
        .to_frame()
        .with_row_index(LINE, offset=piece_line)
        .with_columns(pl.col(LINE).cast(pl.Int64), pl.col("raw").str.strip_suffix("\r"))
        .filter(pl.col(LINE) >= first_line, pl.col("raw").str.strip_chars(" \t") != "")
        .with_columns(
            (pl.col("raw").str.count_matches(",", literal=True) + 1).alias("fields"),
            pl.col("raw").str.contains('"', literal=True).alias("quoted"),
        )
    )
    # Split on commas: lines without quotes, and lines whose quoted fields hold no comma or
    # quote (a spreadsheet that quotes every field); unquoting those is all csv would do.
    simple = ~pl.col("quoted") | pl.col("raw").str.contains(_SIMPLY_QUOTED)
    split = lines.filter(simple & (pl.col("fields") == width)).select(
        LINE,
        *(
            field.str.strip_prefix('"').str.strip_suffix('"').alias(name)
            for field, name in zip(_fields(width), names, strict=True)
        ),
    )
    miscounted = lines.filter(~pl.col("quoted") & (pl.col("fields") != width))
    others = lines.filter(pl.col("quoted") & ~(simple & (pl.col("fields") == width)))
    piece_problems = RowProblems()
    parsed = _parse_lines(others.select(LINE, "raw").iter_rows(), names, piece_problems)
    if parsed is None:
        return None
    # Only the first of the miscounted lines become problems; the rest are counted.
    problems.extend(
        (
            field_count_problem(line, found, width)
            for line, found in miscounted.head(SHOWN_PROBLEMS).select(LINE, "fields").iter_rows()
        ),
        total=miscounted.height,
    )
    problems.extend(piece_problems.first(), total=piece_problems.total)
    if parsed.height:
        split = pl.concat([split, parsed]).sort(LINE)
    return split


def _fields(width: int) -> list[pl.Expr]:
    return [
        pl.col("raw").str.split_exact(",", width - 1).struct.field(f"field_{index}")
        for index in range(width)
    ]


def _parse_lines(
    lines: Iterator[tuple[int, str]], names: tuple[str, ...], problems: RowProblems
) -> pl.DataFrame | None:
    """Single lines through ``csv``; ``None`` if one of them is not a whole record."""
    width = len(names)
    numbers: list[int] = []
    rows: list[list[str]] = []
    for line, raw in lines:
        try:
            fields = next(csv.reader([raw], strict=True))
        except csv.Error:
            return None  # a quote that csv reads on into the next line, or a stray one
        if is_blank_record(fields):
            continue
        if len(fields) != width:
            problems.add(field_count_problem(line, len(fields), width))
            continue
        numbers.append(line)
        rows.append(fields)
    return _frame(numbers, rows, names)


def _exact_table(
    text: str,
    names: tuple[str, ...],
    *,
    first_line: int,
    file_name: str,
    progress: Progress | None,
) -> Table:
    """The table, read record by record through ``csv`` (quoted line breaks and all)."""
    width = len(names)
    total_lines = max(1, text.count("\n") + 1)
    frames = [_empty_frame(names)]
    problems = RowProblems()
    rows = 0
    records = _records(text)
    try:
        while True:
            consumed = 0
            lines: list[int] = []
            chunk: list[list[str]] = []
            for start, end, fields in islice(records, _CHUNK_RECORDS):
                consumed += 1
                if start < first_line or is_blank_record(fields):
                    continue
                rows += 1
                if len(fields) == width:
                    lines.append(start)
                    chunk.append(fields)
                else:
                    problems.add(field_count_problem(start, len(fields), width, last_line=end))
            if chunk:
                frames.append(_frame(lines, chunk, names))
            if not consumed:
                break
            if progress:
                progress(min(1.0, end / total_lines))
    except _UnreadableRecord as error:
        raise UnreadableFile(
            file_name,
            f"the CSV record that starts on line {error.line} cannot be read "
            f"({error.reason}): is a closing quote missing?",
        ) from None
    return Table(frame=pl.concat(frames), rows=rows, problems=problems)
