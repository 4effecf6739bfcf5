"""``gridboard worker`` as a child process of a test, with report computation held back.

    python -m tests.reports.worker_process --database-url URL worker [options]

It is the real command (``core.cli.main``) in a real process; only ``compute_report`` is
wrapped so a test can catch a worker in the middle of a report:

* ``GRIDBOARD_TEST_COMPUTE_SECONDS``: sleep this long before each computation;
* ``GRIDBOARD_TEST_GATE``: a file path; each computation waits until that file exists, and
  marks that it is waiting by creating the same path with ``.entered`` added;
* ``GRIDBOARD_TEST_FREEZE``: set, the worker stops itself (SIGSTOP) on entering the gate,
  while none of its threads is writing: a process frozen inside a write holds SQLite's lock
  (or PostgreSQL's row locks), and no other runner could take its report over until it woke.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from core.cli import main
from core.db import Database
from core.reports.jobs import runner

_compute_report = runner.compute_report
_write = Database.write
_writing = threading.RLock()  # held by a thread writing (a claim, a lease, a webhook...)


@contextmanager
def write(self: Database) -> Iterator[Session]:
    with _writing, _write(self) as session:
        yield session


def held_back_compute(*args: Any, **kwargs: Any) -> Any:
    gate = os.environ.get("GRIDBOARD_TEST_GATE")
    if gate and os.environ.get("GRIDBOARD_TEST_FREEZE"):
        with _writing:
            Path(f"{gate}.entered").touch()
            os.kill(os.getpid(), signal.SIGSTOP)
    elif gate:
        Path(f"{gate}.entered").touch()
    while gate and not Path(gate).exists():
        time.sleep(0.02)
    time.sleep(float(os.environ.get("GRIDBOARD_TEST_COMPUTE_SECONDS", "0")))
    return _compute_report(*args, **kwargs)


if __name__ == "__main__":
    runner.compute_report = held_back_compute
    Database.write = write  # type: ignore[method-assign]
    sys.exit(main(sys.argv[1:]))
