"""What an import refuses: each bad cell or row (``RowProblem``), the first ones collected in
bounded memory (``RowProblems``), and the refusal of a whole file.
See docs/design.md#import-formats."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from core.counts import format_count
from core.errors import GridBoardError


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad cell (or row) of an imported file.

    ``line`` is the line as an editor shows it (the header is line 1) for CSV files, and the
    data row + 1 for Parquet files (the first data row is line 2, as in CSV); ``column`` is
    empty when the problem is the whole row.
    """

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


SHOWN_PROBLEMS = 100


def _place(problem: RowProblem) -> tuple[int, str]:
    return problem.line, problem.column


class RowProblems:
    """An import's problems as it finds them: the first ``SHOWN_PROBLEMS`` by line and column,
    and how many there are in all. Only the shown ones are kept, so a file with a million bad
    rows is refused in the memory of one with a hundred."""

    def __init__(self) -> None:
        self._kept: list[RowProblem] = []
        self.total = 0

    def add(self, problem: RowProblem) -> None:
        self.total += 1
        self._kept.append(problem)
        if len(self._kept) >= 4 * SHOWN_PROBLEMS:
            self._kept = sorted(self._kept, key=_place)[:SHOWN_PROBLEMS]

    def extend(self, problems: Iterable[RowProblem], *, total: int | None = None) -> None:
        """Add ``problems``; ``total`` says how many they stand for when they are only the
        first of a larger set (the rest counted, not built)."""
        added = 0
        for problem in problems:
            self.add(problem)
            added += 1
        if total is not None:
            self.total += max(0, total - added)

    def first(self) -> tuple[RowProblem, ...]:
        return tuple(sorted(self._kept, key=_place)[:SHOWN_PROBLEMS])

    def __iter__(self) -> Iterator[RowProblem]:
        return iter(self.first())

    def __bool__(self) -> bool:
        return self.total > 0


class ImportRejection(GridBoardError):
    """An import found bad rows; nothing was written. ``problems`` holds the first
    ``SHOWN_PROBLEMS`` by line and column, ``total`` counts them all."""

    def __init__(self, problems: Iterable[RowProblem] | RowProblems) -> None:
        if not isinstance(problems, RowProblems):
            collected = RowProblems()
            collected.extend(problems)
            problems = collected
        self.problems = problems.first()
        self.total = problems.total
        lines = [str(p) for p in self.problems]
        if self.hidden_count:
            lines.append(f"... and {format_count(self.hidden_count, 'more problem')}")
        super().__init__(
            f"import refused, nothing was written: {format_count(self.total, 'problem')}\n"
            + "\n".join(lines)
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the shown problems and the count (an import in a child process).
        return _rejection, (self.problems, self.total)

    @property
    def shown(self) -> tuple[RowProblem, ...]:
        return self.problems

    @property
    def hidden_count(self) -> int:
        return self.total - len(self.problems)


def _rejection(problems: tuple[RowProblem, ...], total: int) -> ImportRejection:
    collected = RowProblems()
    collected.extend(problems, total=total)
    return ImportRejection(collected)


class UnreadableFile(GridBoardError):
    """A file that is empty, binary, or not CSV/Parquet at all."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")
