"""What showing alarms costs a page: the reads behind the sidebar's count, the Overview's counts
and newest alarms and the Network's colours, on a database with many alarms.

    python bench/alarm_views.py --database-url URL [--alarms 100000] [--open 1000] [--repeat 20]

Adds ``--alarms`` alarms to the database's components when it has fewer (``--open`` of them
open: active or cleared unacknowledged, a tenth of those shelved; the rest closed), then times
each read (median and max of ``--repeat`` after one warm-up, milliseconds). Then time the pages
with bench/pages.py over the same database (see bench/RESULTS.md for the before/after runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from benchlib import machine  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from core.alarms.summary import network_alarms, read_summary, unacknowledged_count  # noqa: E402
from core.db import open_database  # noqa: E402
from core.models import Alarm, Component, utc_now  # noqa: E402

STATES = ("active_unacknowledged", "active_acknowledged", "cleared_unacknowledged")
KINDS = (("high_alarm", "alarm"), ("high_warning", "warning"), ("low_warning", "warning"))
HOUR_US = 3_600_000_000


def add_alarms(url: str, total: int, open_count: int) -> None:
    """``total`` alarms spread over the components, ``open_count`` of them open."""
    database = open_database(url)
    with database.write() as session:
        have = session.scalar(select(func.count()).select_from(Alarm)) or 0
        ids = list(session.scalars(select(Component.id).order_by(Component.id)))
        shelved_until = utc_now() + timedelta(days=1)
        rows = []
        for n in range(have, total):
            kind, severity = KINDS[n % len(KINDS)]
            is_open = n < open_count
            state = STATES[n % len(STATES)] if is_open else "closed"
            raised = n * HOUR_US
            rows.append(
                {
                    "component_id": ids[n % len(ids)],
                    "measurement_type": "voltage",
                    "kind": kind,
                    "severity": severity,
                    "limit_value": 121.0,
                    "worst_value": 125.0,
                    "worst_at_us": raised,
                    "raised_at_us": raised,
                    "cleared_at_us": None if state.startswith("active") else raised + HOUR_US,
                    "state": state,
                    "shelved_until": shelved_until if is_open and n % 10 == 0 else None,
                    "updated_at": utc_now(),
                }
            )
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Alarm), rows[start : start + 10_000])
    database.dispose()


def timed(read: Callable[[], object], repeat: int) -> tuple[float, float]:
    read()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        read()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--alarms", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    add_alarms(args.database_url, args.alarms, args.open)
    database = open_database(args.database_url)
    print(f"machine: {machine()}")
    print(f"database: {args.database_url}; {args.alarms:,} alarms, {args.open:,} open")
    reads: dict[str, Callable[[object], object]] = {
        "sidebar count": lambda session: unacknowledged_count(session=session),
        "overview summary": lambda session: read_summary(session=session),
        "network colours": lambda session: network_alarms(session=session),
    }
    for label, read in reads.items():

        def one(read: Callable[[object], object] = read) -> object:
            with database.read() as session:
                return read(session)

        median, worst = timed(one, args.repeat)
        print(f"{label:18} median {median:6.2f} ms   max {worst:6.2f} ms")
    database.dispose()


if __name__ == "__main__":
    main()
