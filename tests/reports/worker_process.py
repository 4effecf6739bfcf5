"""``gridboard worker`` as a child process of a test, with report computation held back.

    python -m tests.reports.worker_process --database-url URL worker [options]

It is the real command (``core.cli.main``) in a real process; only ``compute_report`` is
wrapped so a test can catch a worker in the middle of a report:

* ``GRIDBOARD_TEST_COMPUTE_SECONDS``: sleep this long before each computation;
* ``GRIDBOARD_TEST_GATE``: a file path; each computation waits until that file exists, and
  marks that it is waiting by creating the same path with ``.entered`` added.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from core.cli import main
from core.reports.jobs import runner

_compute_report = runner.compute_report


def held_back_compute(*args: Any, **kwargs: Any) -> Any:
    gate = os.environ.get("GRIDBOARD_TEST_GATE")
    if gate:
        Path(f"{gate}.entered").touch()
    while gate and not Path(gate).exists():
        time.sleep(0.02)
    time.sleep(float(os.environ.get("GRIDBOARD_TEST_COMPUTE_SECONDS", "0")))
    return _compute_report(*args, **kwargs)


if __name__ == "__main__":
    runner.compute_report = held_back_compute
    sys.exit(main(sys.argv[1:]))
