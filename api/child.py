"""Large imports in a child process of their own, so the server's readers keep their speed; the
child dies with the server. See docs/architecture.md#the-http-apis-dependencies."""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import Settings
from core.db import Database
from core.domain import Actor
from core.errors import GridBoardError

if TYPE_CHECKING:
    from core.imports.service import ImportKind

# A body this large (about 200,000 CSV rows) imports in a child process; smaller ones, a
# feed's file every 15 minutes, in a thread (a child costs about a second to start).
CHILD_FROM_BYTES = 8 << 20


def child_url(database: Database) -> str | None:
    """The URL another process opens the same database with, or ``None`` (in-memory)."""
    url = database.engine.url
    if url.get_backend_name() == "sqlite" and (
        not url.database or url.database == ":memory:" or url.database.startswith("file:")
    ):
        return None
    return url.render_as_string(hide_password=False)


# Linux's prctl option: the signal a process gets when the thread that started it ends.
_PR_SET_PDEATHSIG = 1
_PARENT_POLL_SECONDS = 1.0


def _die_with_parent(parent: int) -> None:
    """In the child, before any work: be killed when ``parent`` ends, however it ends (a
    SIGKILL included, which runs no clean-up in the parent). Linux delivers SIGKILL at once;
    elsewhere, and as a second guard, a thread ends the child once its parent is gone."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run(
    url: str,
    settings: Settings,
    actor: Actor,
    kind: ImportKind,
    path: str,
    name: str,
    overwrite: bool,
    allow_implausible: bool,
) -> tuple[str, Any]:
    """In the child: open the database (no migration: the server did it), import, answer
    the summary's fields or the domain error's class, arguments and attributes (most
    GridBoard errors cannot be pickled whole: their arguments are not their message)."""
    from core.imports import run_import
    from core.logs import configure_logging

    configure_logging(settings)
    database = Database.from_url(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        summary = run_import(
            database=database, actor=actor, kind=kind, source=Path(path), file_name=name,
            overwrite=overwrite, allow_implausible=allow_implausible,
        )  # fmt: skip
        return "ok", summary.log_fields()
    except GridBoardError as error:
        return "error", (type(error), error.args, vars(error))
    finally:
        database.dispose()


async def import_in_child(
    url: str,
    settings: Settings,
    actor: Actor,
    kind: ImportKind,
    path: Path,
    name: str,
    overwrite: bool,
    allow_implausible: bool = False,
) -> dict[str, Any]:
    """Import ``path`` (``kind`` is measurements or components) in a new child process:
    the summary's fields, or the same domain error the import raised there."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        outcome, value = await asyncio.wrap_future(
            pool.submit(
                _run, url, settings, actor, kind, str(path), name, overwrite, allow_implausible
            )
        )
    if outcome == "ok":
        fields: dict[str, Any] = value
        return fields
    kind_of_error, args, attributes = value
    error = kind_of_error.__new__(kind_of_error)
    error.args = args
    error.__dict__.update(attributes)
    raise error
