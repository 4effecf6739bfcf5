"""``gridboard rebuild-aggregates`` killed (SIGKILL) mid-way leaves the rollups as they were:
the rebuild is one transaction, so a restart finds them equal to the raw data."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time

import psycopg
from sqlalchemy import make_url

from core.domain import SYSTEM_ACTOR
from core.measurements.rollups import _ROLLUP_LOCK_ID
from core.seed import seed_grid
from tests.faults.conftest import assert_consistent, gridboard, reopen, rollup_count


def rebuilding(url: str) -> bool:
    """Whether some process is inside a rollup-writing transaction right now."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        probe = sqlite3.connect(str(parsed.database), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return True
        finally:
            probe.close()
        return False
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as probe:
        held = probe.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = %s",
            (_ROLLUP_LOCK_ID,),
        ).fetchone()
    return bool(held and held[0])


def test_killed_rebuild_leaves_the_rollups_equal_to_raw_data(db, url):
    with db.write() as session:
        seed_grid(session=session, actor=SYSTEM_ACTOR, components=30, per_component=10_000)
    rollups_before = rollup_count(db)
    assert rollups_before > 0

    process = gridboard(url, "rebuild-aggregates", stdout=subprocess.PIPE, text=True)
    while process.poll() is None and not rebuilding(url):
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    output, _ = process.communicate()
    assert process.returncode == -signal.SIGKILL, f"the rebuild ended by itself: {output}"
    assert "rebuilt" not in output

    restarted = reopen(url)
    try:
        assert rollup_count(restarted) == rollups_before
    finally:
        restarted.dispose()
    assert_consistent(url)

    again = gridboard(url, "rebuild-aggregates", stdout=subprocess.PIPE, text=True)
    output, _ = again.communicate()
    assert again.returncode == 0
    assert f"rebuilt {rollups_before} measurement rollup rows" in output
    assert_consistent(url)
