"""Draining a queue of reports with one ``gridboard worker`` process against two.

    python bench/workers.py [--database-url URL] [--reports 100] [--rounds 2]
                            [--components 100] [--per-component 10000]

Seeds a throwaway database once (by default a new database on the local PostgreSQL server;
``gridboard seed``, 100 x 10,000 = 1M measurements), then, per round and for 1 and then 2
workers (rounds interleave them, so a busy moment on the shared machine hurts both alike):

0. (PostgreSQL) vacuums and analyzes the new tables, as autovacuum would soon after the load;
1. starts the workers and waits until each one logs that it is waiting for reports, so process
   start-up (imports, migration check) is not counted;
2. queues ``--reports`` full-period reports (first to last measurement, Europe/Zurich) in one
   transaction; the clock starts at its commit;
3. waits until none is pending or running; the drain time is the last ``finished_at`` minus
   the commit time;
4. stops the workers with SIGTERM, reads each one's peak RSS (``os.wait4``), and checks that
   every report completed on its first claim.

Prints per worker count the median drain time, reports/s and the largest worker peak RSS, and
the speed-up of two workers over one (target: >= 1.7).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import GRIDBOARD, machine, median, seed_command, throwaway_database  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from core.db import Database  # noqa: E402
from core.domain import SYSTEM_ACTOR  # noqa: E402
from core.models import Measurement, Report  # noqa: E402
from core.reports.jobs import ACTIVE, ReportStatus, request_report  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
READY = "waiting for reports"


def full_period(database: Database) -> tuple[datetime, datetime]:
    with database.read() as session:
        first, last = session.execute(
            select(func.min(Measurement.timestamp_us), func.max(Measurement.timestamp_us))
        ).one()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + timedelta(microseconds=first), epoch + timedelta(microseconds=last + 1)


def start_workers(url: str, count: int, logs: Path) -> list[tuple[subprocess.Popen[bytes], Path]]:
    workers = []
    for number in range(count):
        log = logs / f"worker-{count}-{number}-{time.monotonic_ns()}.log"
        with log.open("wb") as stream:
            process = subprocess.Popen(
                [str(GRIDBOARD), "--database-url", url, "worker", "--poll-seconds", "0.05"],
                stdout=stream,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, "GRIDBOARD_LOG_LEVEL": "INFO"},  # READY is an INFO record
            )
        workers.append((process, log))
    deadline = time.monotonic() + 120
    while not all(READY in log.read_text() for _, log in workers):
        if time.monotonic() > deadline or any(p.poll() is not None for p, _ in workers):
            for process, log in workers:
                process.kill()
                sys.stderr.write(log.read_text())
            raise SystemExit("a worker did not start")
        time.sleep(0.05)
    return workers


def stop_workers(workers: list[tuple[subprocess.Popen[bytes], Path]]) -> float:
    """SIGTERM every worker; the largest peak RSS among them, in MB."""
    peak = 0.0
    for process, _ in workers:
        process.send_signal(signal.SIGTERM)
    for process, log in workers:
        _pid, status, rusage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            sys.stderr.write(log.read_text())
            raise SystemExit(f"a worker exited with {process.returncode}")
        peak = max(peak, rusage.ru_maxrss / 1024)
    return peak


def drain(
    database: Database, url: str, count: int, reports: int, logs: Path
) -> tuple[float, float]:
    """Seconds to drain ``reports`` full-period reports with ``count`` workers, and peak RSS."""
    with database.write() as session:
        session.execute(delete(Report))
    start, end = full_period(database)
    workers = start_workers(url, count, logs)
    try:
        with database.write() as session:
            for _ in range(reports):
                request_report(
                    session=session,
                    actor=SYSTEM_ACTOR,
                    start=start,
                    end=end,
                    time_zone="Europe/Zurich",
                )
        queued_at = datetime.now(UTC)
        while True:
            with database.read() as session:
                active = session.scalar(
                    select(func.count()).select_from(Report).where(Report.status.in_(ACTIVE))
                )
            if not active:
                break
            time.sleep(0.1)
    finally:
        peak = stop_workers(workers)
    with database.read() as session:
        rows = session.execute(select(Report.status, Report.attempts, Report.finished_at)).all()
    wrong = [row for row in rows if row.status != ReportStatus.COMPLETED or row.attempts != 1]
    if len(rows) != reports or wrong:
        raise SystemExit(f"{len(wrong)} of {len(rows)} reports not completed on their first claim")
    last = max(row.finished_at for row in rows if row.finished_at is not None)
    return (last - queued_at).total_seconds(), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"default: {DEFAULT_URL}")
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    args = parser.parse_args()
    print(machine())
    logs = Path(tempfile.mkdtemp(prefix="gridboard-bench-workers-"))
    with throwaway_database(args.database_url, "workers") as url:
        subprocess.run(
            seed_command(url, args.components, args.per_component),
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        database = Database.from_url(url)
        if database.engine.dialect.name == "postgresql":
            # A freshly loaded table gets vacuumed by autovacuum a little later, which would
            # compete with the first rounds for the two cores; a database in service has been.
            with database.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM (ANALYZE) measurements, measurement_rollups, components, reports"
                )
        with database.read() as session:
            rows = session.scalar(select(func.count()).select_from(Measurement)) or 0
        start, end = full_period(database)
        print(
            f"database: {database.url}  measurements: {rows:,}  "
            f"{args.reports} reports over {start:%Y-%m-%d} .. {end:%Y-%m-%d}"
        )
        seconds: dict[int, list[float]] = {1: [], 2: []}
        peaks: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for count in (1, 2):
                took, peak = drain(database, url, count, args.reports, logs)
                seconds[count].append(took)
                peaks[count].append(peak)
                print(f"  {count} worker(s): {took:.2f} s  peak RSS {peak:.0f} MB")
        database.dispose()
    for count in (1, 2):
        took = median(seconds[count])
        print(
            f"{count} worker process(es): {took:7.2f} s  {args.reports / took:7.1f} reports/s  "
            f"peak RSS per worker {max(peaks[count]):.0f} MB"
        )
    speed_up = median(seconds[1]) / median(seconds[2])
    verdict = "meets" if speed_up >= 1.7 else "misses"
    print(f"speed-up of 2 workers over 1: {speed_up:.2f}x ({verdict} the 1.7x target)")


if __name__ == "__main__":
    main()
