"""What every import reads a file into, and the header rules shared by CSV and Parquet.
See docs/architecture.md#imports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from core.import_errors import ImportRejection, RowProblem, RowProblems, UnreadableFile

LINE = "line"
# An import needs at most 7 columns; a wider header is not a GridBoard file, and reading
# thousands of columns costs time for nothing.
MAX_COLUMNS = 100

# The columns a file must have, given the (normalised) columns it has: the measurement file
# comes in two shapes, told apart by its header.
ColumnsFor = Callable[[tuple[str, ...]], tuple[str, ...]]
# Columns GridBoard's own exports write for information (the row's id, who changed it when):
# an import of such a file accepts them, reads nothing from them and says so.
INFORMATION_COLUMNS = ("id", "created_at", "created_by", "updated_at", "updated_by")

_DELIMITERS = ((";", "';'"), ("\t", "tabs"), ("|", "'|'"))


@dataclass(frozen=True, slots=True)
class Table:
    """The data records of a file, before any value is checked.

    ``frame`` has the Int64 column ``line`` (where the record starts, as an editor shows it:
    the header is line 1) and one String column per expected column, named as in
    ``expected``. ``rows`` counts every data record, also those in ``problems`` (records with
    the wrong number of fields: the first shown, all counted), which are not in ``frame``.
    """

    frame: pl.DataFrame
    rows: int
    problems: RowProblems
    ignored: tuple[str, ...] = ()  # ``INFORMATION_COLUMNS`` the file had, not in ``frame``

    def without_ignored(self) -> Table:
        """This table without the columns an import reads nothing from."""
        ignored = tuple(name for name in self.frame.columns if name in INFORMATION_COLUMNS)
        return Table(self.frame.drop(ignored), self.rows, self.problems, ignored)


def normalise(name: str) -> str:
    return name.strip().lower()


def accepted_columns(expected: Sequence[str], optional: Sequence[str] = ()) -> str:
    """Every column an import accepts, for a message: the ones it needs, the optional ones,
    and GridBoard's information columns that it ignores."""
    optional = [name for name in optional if name not in expected]
    text = ", ".join(expected)
    if optional:
        text += f"; optional: {', '.join(optional)}"
    return f"{text}; ignored if present: {', '.join(INFORMATION_COLUMNS)}"


def check_header(
    header: Sequence[str],
    *,
    columns_for: ColumnsFor,
    file_name: str,
    line: int = 1,
    optional: Sequence[str] = (),
) -> tuple[str, ...]:
    """The expected columns for ``header``; refuse a header that is not a comma-separated row
    (``UnreadableFile``) or lacks, repeats or adds columns (``ImportRejection``). Columns in
    ``optional`` may be present (``columns_for`` then names them); ``INFORMATION_COLUMNS``
    are accepted and left for the caller to drop (``Table.without_ignored``)."""
    check_width(len(header), file_name)
    names = tuple(normalise(name) for name in header)
    expected = columns_for(names)
    accepted = accepted_columns(expected, optional)
    if len(names) == 1 and len(expected) > 1:
        shown = header[0] if len(header[0]) <= 60 else header[0][:57] + "..."
        raise UnreadableFile(
            file_name,
            single_column_reason(header)
            or (
                f"is not a comma-separated file: its first line {shown!r} has a single "
                f"column, GridBoard expects the columns {','.join(expected)}"
            ),
        )
    if not set(names) & set(expected):
        raise UnreadableFile(
            file_name,
            f"has no header row GridBoard knows: its first line should name the columns "
            f"{','.join(expected)}",
        )
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(RowProblem(line, "", f"column {position} of the header has no name"))
        elif name in seen:
            problems.append(RowProblem(line, name, "appears twice in the header"))
        elif name not in expected and name not in INFORMATION_COLUMNS:
            problems.append(
                RowProblem(
                    line, name, f"is not a column GridBoard knows here; expected: {accepted}"
                )
            )
        seen.add(name)
    problems.extend(
        RowProblem(line, name, f"is missing from the header; expected: {accepted}")
        for name in expected
        if name not in seen
    )
    if problems:
        raise ImportRejection(problems)
    return names


def check_width(columns: int, file_name: str) -> None:
    """Refuse (``UnreadableFile``) a file with more than ``MAX_COLUMNS`` columns."""
    if columns > MAX_COLUMNS:
        raise UnreadableFile(
            file_name,
            f"has {columns:,} columns; GridBoard reads files of at most {MAX_COLUMNS} columns "
            "(an import needs 5 to 7)",
        )


def single_column_reason(header: Sequence[str]) -> str | None:
    """Why a one-column header is not CSV as GridBoard reads it, if another separator shows."""
    if len(header) != 1:
        return None
    count, label = max((header[0].count(char), label) for char, label in _DELIMITERS)
    return f"looks like it is separated by {label}, GridBoard expects commas" if count else None


def is_blank_record(fields: Sequence[str]) -> bool:
    """An empty line, or one of spaces and tabs only: skipped, as an editor user expects."""
    return not fields or (len(fields) == 1 and not fields[0].strip(" \t"))


def field_count_problem(line: int, found: int, width: int, *, last_line: int = 0) -> RowProblem:
    reason = f"has {found} {'field' if found == 1 else 'fields'} but the header has {width}"
    if last_line > line:
        reason += (
            f"; a quoted field runs from here to line {last_line}: is a closing quote missing?"
        )
    return RowProblem(line, "", reason)
