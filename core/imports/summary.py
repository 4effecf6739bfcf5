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
    ignored_columns: tuple[str, ...] = ()  # GridBoard's information columns the file had
    allow_implausible: bool = False  # the manager let implausible values in (audited)

    def log_fields(self) -> dict[str, object]:
        """The summary as fields of the import's log record."""
        return asdict(self)

    def notes(self) -> list[str]:
        """What the import left out or let through, as sentences for the page and the CLI."""
        notes = []
        if self.ignored_columns:
            notes.append(
                f"ignored columns: {', '.join(self.ignored_columns)} "
                "(written by GridBoard for information)"
            )
        if self.allow_implausible:
            notes.append("implausible values allowed for this import (recorded in the audit log)")
        return notes
