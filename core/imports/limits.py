"""How big an import file may be (``GRIDBOARD_IMPORT_MAX_ROWS``, ``..._MEGABYTES``): checked
before a file is read, so that one upload cannot take the memory every session shares."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import get_settings
from core.errors import UnreadableFile

MEGABYTE = 1_000_000


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_rows: int
    max_bytes: int

    def check_rows(self, rows: int, file_name: str, *, what: str = "rows") -> None:
        if rows > self.max_rows:
            raise UnreadableFile(
                file_name,
                f"has {rows:,} {what}; GridBoard imports at most {self.max_rows:,} rows per "
                "file: split it into smaller files",
            )

    def check_bytes(self, size: int, file_name: str, *, what: str = "its size") -> None:
        if size > self.max_bytes:
            raise UnreadableFile(
                file_name,
                f"is too big ({what} is over {self.max_bytes / MEGABYTE:,.0f} MB; GridBoard "
                f"imports at most {self.max_bytes / MEGABYTE:,.0f} MB per file): split it into "
                "smaller files",
            )


def import_limits() -> ImportLimits:
    settings = get_settings()
    return ImportLimits(
        max_rows=settings.import_max_rows, max_bytes=settings.import_max_megabytes * MEGABYTE
    )
