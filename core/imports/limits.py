"""How big an import file may be (``GRIDBOARD_IMPORT_MAX_ROWS``, ``..._MEGABYTES``), checked
before it is read, and one import at a time per process. See docs/architecture.md#imports."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from core.config import get_settings
from core.counts import format_count
from core.import_errors import UnreadableFile
from core.units import format_bytes

MEGABYTE = 1_000_000
_IMPORTING = threading.Lock()
_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_rows: int
    max_bytes: int

    def check_rows(
        self, rows: int, file_name: str, *, what: tuple[str, str] = ("row", "rows")
    ) -> None:
        if rows > self.max_rows:
            raise UnreadableFile(
                file_name,
                f"has {format_count(rows, *what)}; GridBoard imports at most "
                f"{self.max_rows:,} rows per file: split it into smaller files",
            )

    def check_bytes(self, size: int, file_name: str, *, what: str = "its size") -> None:
        if size > self.max_bytes:
            raise UnreadableFile(
                file_name,
                f"is too big ({what} is over {format_bytes(self.max_bytes)}; GridBoard imports "
                f"at most {format_bytes(self.max_bytes)} per file): split it into smaller files",
            )


def import_limits() -> ImportLimits:
    settings = get_settings()
    return ImportLimits(
        max_rows=settings.import_max_rows, max_bytes=settings.import_max_megabytes * MEGABYTE
    )


def one_at_a_time(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` (an import) while no other import of this process runs. Each holds up
    to the limits' worth of a file in memory; sessions of one app process (threads) importing
    at once wait their turn instead of adding up."""

    @functools.wraps(function)
    def serialised(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _IMPORTING:
            return function(*args, **kwargs)

    return serialised
