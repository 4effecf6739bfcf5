"""An import as one user action: the file checked and written in one write transaction for the
acting user, as the API, its child process, the CLI and the dashboard run it.
See docs/architecture.md#imports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from core.db import Database
from core.domain import Actor
from core.imports.components import import_components
from core.imports.measurements import import_measurements
from core.imports.summary import ImportSummary

ImportKind = Literal["components", "measurements"]


def run_import(
    *,
    database: Database,
    actor: Actor,
    kind: ImportKind,
    source: bytes | Path,
    file_name: str,
    overwrite: bool = False,
    allow_implausible: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ImportSummary:
    """Import ``source`` (``kind`` of rows, ``file_name`` named in the problems) for ``actor``
    in one write transaction: every row, or none and ``ImportRejection``/``UnreadableFile``.
    ``progress`` gets the fraction done of a measurements import (a components file is read
    whole in one step); ``allow_implausible`` lets a measurements file's implausible values
    in (audited)."""
    with database.write() as session:
        if kind == "measurements":
            return import_measurements(
                session=session, actor=actor, source=source, file_name=file_name,
                overwrite=overwrite, allow_implausible=allow_implausible, progress=progress,
            )  # fmt: skip
        return import_components(
            session=session, actor=actor, source=source, file_name=file_name, overwrite=overwrite
        )
