"""Report speed and memory: rollups against reading every row of the period into Polars.

    python bench/reports.py [--database-url URL]... [--components 100] [--per-component 10000]

Seeds each database with ``gridboard seed`` when it is empty (a throwaway SQLite file by
default; give ``--database-url`` twice to measure SQLite and PostgreSQL in one run), then
times, median of several runs in this process:

* the full-period report, a 7-day report and a century's (the longest period, from 1950, most
  of it without data) as the runner computes them (``compute_report``);
* the baseline: every raw row of the period read into Polars and aggregated per day
  (what the reference implementation did), in the same run;

and the runner's memory: each measured computation also runs once in a fresh child process
that reports its peak RSS (``VmHWM``) before and after the computation.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import polars as pl  # noqa: E402
from benchlib import seed_command  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from core.db import Database  # noqa: E402
from core.models import Measurement  # noqa: E402
from core.reports.compute import compute_report  # noqa: E402
from core.reports.zones import MAX_PERIOD_DAYS  # noqa: E402


def baseline(database: Database, start: datetime, end: datetime, zone: str) -> pl.DataFrame:
    """Every row of the period into Polars, then group by day (the approach to beat)."""
    low, high = int(start.timestamp() * 1e6), int(end.timestamp() * 1e6)
    query = (
        "SELECT c.component_type, m.measurement_type, m.timestamp_us, m.value "
        "FROM measurements m JOIN components c ON c.id = m.component_id "
        f"WHERE m.timestamp_us >= {low} AND m.timestamp_us < {high}"
    )
    with database.engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    frame = pl.DataFrame(
        rows, schema=["component_type", "measurement_type", "timestamp_us", "value"], orient="row"
    )
    return frame.group_by(
        pl.col("timestamp_us").cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(zone).dt.date(),
        "measurement_type",
        "component_type",
    ).agg(
        pl.col("value").mean().alias("avg_value"),
        pl.len().alias("sample_count"),
        pl.col("value").min().alias("min_value"),
        pl.col("value").max().alias("max_value"),
    )


def timed(function, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def child_memory(url: str, what: str, start: datetime, end: datetime) -> dict[str, float]:
    code = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from datetime import datetime
from core.db import Database
from core.reports.compute import compute_report
sys.path.insert(0, {str(ROOT / "bench")!r})
from reports import baseline
db = Database.from_url({url!r})
start = datetime.fromisoformat({start.isoformat()!r})
end = datetime.fromisoformat({end.isoformat()!r})
def high_water_mb():
    # VmHWM starts afresh at exec (ru_maxrss would inherit the parent's figure)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
before = high_water_mb()
if {what!r} == "rollups":
    with db.read() as session:
        compute_report(session, start=start, end=end, time_zone="Europe/Zurich")
else:
    baseline(db, start, end, "Europe/Zurich")
after = high_water_mb()
print(json.dumps({{"before_mb": before, "peak_mb": after}}))
"""
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", action="append", help="repeat for several databases")
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    urls = args.database_url or [f"sqlite:///{tempfile.mkdtemp()}/bench-reports.db"]
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    centuries = {url: measure(url, args) for url in urls}
    if len(centuries) > 1:
        fastest = min(centuries.values())
        for url, seconds in centuries.items():
            print(f"century {seconds * 1000:8.1f} ms  {seconds / fastest:4.2f}x the fastest  {url}")


def measure(url: str, args: argparse.Namespace) -> float:
    """Print one database's figures; return its century report's median seconds."""
    database = Database.from_url(url)
    database.migrate()
    with database.read() as session:
        rows = session.scalar(select(func.count()).select_from(Measurement)) or 0
    if rows == 0:
        subprocess.run(
            seed_command(url, args.components, args.per_component),
            check=True,
        )
    with database.read() as session:
        rows = session.scalar(select(func.count()).select_from(Measurement)) or 0
        first, last = session.execute(
            select(func.min(Measurement.timestamp_us), func.max(Measurement.timestamp_us))
        ).one()
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=first)
    end = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=last + 1)
    week_start = end - timedelta(days=7)
    print(f"database: {database.url}  measurements: {rows:,}")

    def report(low: datetime, high: datetime) -> None:
        with database.read() as session:
            compute_report(session, start=low, end=high, time_zone="Europe/Zurich")

    full = timed(lambda: report(start, end), args.repeat)
    week = timed(lambda: report(week_start, end), args.repeat)
    century_start = datetime(1950, 1, 1, tzinfo=UTC)
    century = timed(
        lambda: report(century_start, century_start + timedelta(days=MAX_PERIOD_DAYS)), args.repeat
    )
    base_full = timed(
        lambda: baseline(database, start, end, "Europe/Zurich"), max(1, args.repeat // 2)
    )
    base_week = timed(lambda: baseline(database, week_start, end, "Europe/Zurich"), args.repeat)
    mem_rollups = child_memory(url, "rollups", start, end)
    mem_baseline = child_memory(url, "baseline", start, end)
    print(
        f"full period  rollups {full * 1000:8.1f} ms   baseline {base_full * 1000:8.1f} ms   "
        f"speed-up {base_full / full:6.1f}x   ({rows / full:,.0f} measurements/s)"
    )
    print(
        f"7 days       rollups {week * 1000:8.1f} ms   baseline {base_week * 1000:8.1f} ms   "
        f"speed-up {base_week / week:6.1f}x"
    )
    print(f"century      rollups {century * 1000:8.1f} ms   (1950 to 2050, Europe/Zurich)")
    print(
        f"peak RSS full report  rollups {mem_rollups['peak_mb']:.0f} MB "
        f"(+{mem_rollups['peak_mb'] - mem_rollups['before_mb']:.0f} MB over the loaded runner)   "
        f"baseline {mem_baseline['peak_mb']:.0f} MB "
        f"(+{mem_baseline['peak_mb'] - mem_baseline['before_mb']:.0f} MB)"
    )
    print(
        f"this process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    database.dispose()
    return century


if __name__ == "__main__":
    main()
