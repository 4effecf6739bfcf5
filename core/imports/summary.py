"""What an import did, for the page and the command line to report.
See docs/design.md#import-formats."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class ImportSummary:
    file_name: str
    rows: int  # data rows in the file
    inserted: int
    skipped: int  # keys already in the database, left as they were
    overwritten: int  # keys already in the database, replaced (overwrite=True)
    created_substations: tuple[str, ...] = ()  # names no substation had before the import

    def log_fields(self) -> dict[str, object]:
        """The summary as fields of the import's log record."""
        return asdict(self)
