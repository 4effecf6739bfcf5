"""An import killed (SIGKILL) while it writes leaves nothing of itself behind."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess

from tests.faults.conftest import (
    assert_consistent,
    gridboard,
    make_components,
    measurement_count,
    measurements_csv,
    reopen,
)

PROGRESS = re.compile(rb"importing:\s+(\d+)%")


def _kill_while_writing(process: subprocess.Popen[bytes], terminal: int) -> int:
    """Follow the progress the command shows on a terminal; SIGKILL it once it has written
    at least one batch of rows (the write phase starts at 45 %) but not all of them."""
    seen = b""
    while process.poll() is None:
        ready, _, _ = select.select([terminal], [], [], 0.05)
        if not ready:
            continue
        try:
            seen += os.read(terminal, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        percents = [int(p) for p in PROGRESS.findall(seen)]
        if any(45 < p < 100 for p in percents):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return max(percents)
        assert 100 not in percents, f"the import finished before it could be killed: {seen!r}"
    raise AssertionError(f"the import ended by itself ({process.returncode}): {seen!r}")


def test_killed_import_writes_nothing_and_can_be_run_again(db, url, tmp_path):
    make_components(db)
    earlier = measurements_csv(tmp_path / "earlier.csv", per_component=50)
    assert gridboard(url, "import-measurements", str(earlier)).wait() == 0
    before = measurement_count(db)
    # Two or three write batches of 250 000 rows: 600 000 on SQLite, 300 000 on the slower
    # PostgreSQL COPY path (still killed with 50 000 rows to go).
    per_component = 10_000 if url.startswith("sqlite") else 5_000
    big = measurements_csv(tmp_path / "big.csv", per_component=per_component)
    rows = per_component * 60

    terminal, terminal_end = pty.openpty()
    try:
        process = gridboard(
            url,
            "import-measurements",
            str(big),
            stdout=subprocess.DEVNULL,
            stderr=terminal_end,
            stdin=subprocess.DEVNULL,
        )
        os.close(terminal_end)
        shown = _kill_while_writing(process, terminal)
    finally:
        os.close(terminal)
    assert process.returncode == -signal.SIGKILL
    assert 45 < shown < 100

    restarted = reopen(url)
    try:
        assert measurement_count(restarted) == before
    finally:
        restarted.dispose()
    assert_consistent(url)

    again = gridboard(url, "import-measurements", str(big), stdout=subprocess.PIPE, text=True)
    output, _ = again.communicate()
    assert again.returncode == 0
    assert f"{rows:,} rows, {rows - 3000:,} measurements added, 3,000 skipped" in output
    assert measurement_count(db) == before + rows - 3000
    assert_consistent(url)
