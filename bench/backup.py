"""How long ``gridboard backup`` and ``gridboard restore`` take, what the checks cost, and how
long a writer waits while a backup runs.

    python bench/backup.py                      # SQLite, 100 x 10,000 = 1M rows, 3 rounds
    python bench/backup.py --components 10 --per-component 1000 --repeat 1   # a quick look
    python bench/backup.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The database is seeded once. Per round, each figure from its own child process:

* backup: ``gridboard backup`` end to end (copy, integrity and foreign-key checks, rename);
* restore: ``gridboard restore`` into a new database end to end (copy, checks, migration check,
  rename); on PostgreSQL into a new database on the same server;
* baseline (SQLite only): bare ``sqlite3`` ``Connection.backup`` of the same file, no checks;
* writer wait (SQLite only): while ``gridboard backup`` runs, another process commits one small
  write after another through ``Database.write()``; the longest and median commit times show
  whether the backup blocks writers (it should not: WAL, one read transaction).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import (
    GRIDBOARD,
    child_result,
    is_postgresql,
    machine,
    median,
    run_child,
    run_python_child,
    seed_command,
    spread,
    throwaway_database,
)

SCRIPT = str(Path(__file__).resolve())


def _bare_backup(source: str, destination: str) -> None:
    started = time.perf_counter()
    with sqlite3.connect(source) as reader, sqlite3.connect(destination) as copy:
        reader.backup(copy)
    child_result(seconds=time.perf_counter() - started)


def _writer(url: str, stop_file: str) -> None:
    """Commit small writes until ``stop_file`` exists; report the commit times."""
    from sqlalchemy import text

    from core.db import Database

    database = Database.from_url(url)
    waits: list[float] = []
    stop = Path(stop_file)
    while not stop.exists():
        started = time.perf_counter()
        # One measurement far in the future; the clock makes each key new, in every round.
        with database.write() as session:
            session.execute(
                text(
                    "INSERT INTO measurements (component_id, measurement_type, timestamp_us, "
                    "value) VALUES (1, 'power', :t, 1.0)"
                ),
                {"t": 4_000_000_000_000_000 + time.time_ns() // 1000},
            )
        waits.append(time.perf_counter() - started)
    database.dispose()
    child_result(max_ms=max(waits) * 1000, median_ms=median(waits) * 1000, commits=len(waits))


def _size_mb(path: Path) -> float:
    return path.stat().st_size / 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="a postgresql+psycopg:// URL (default: SQLite)")
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "bare":
            _bare_backup(*rest)
        else:
            _writer(*rest)
        return

    print(machine())
    with (
        throwaway_database(args.database_url, "backup-src") as url,
        tempfile.TemporaryDirectory(prefix="gridboard-bench-backup-") as folder,
    ):
        seeded = run_child(seed_command(url, args.components, args.per_component))
        assert seeded.returncode == 0, seeded.stderr
        rows = args.components * args.per_component
        postgres = is_postgresql(url)
        backups, restores, bare, writer_max, writer_median = [], [], [], [], []
        size = 0.0
        for round_ in range(args.repeat):
            backup = Path(folder) / f"backup-{round_}.{'dump' if postgres else 'db'}"
            run = run_child([str(GRIDBOARD), "--database-url", url, "backup", str(backup)])
            assert run.returncode == 0, run.stderr
            backups.append(run.seconds)
            size = _size_mb(backup)
            with throwaway_database(
                args.database_url if postgres else None, "backup-dst"
            ) as target:
                run = run_child([str(GRIDBOARD), "--database-url", target, "restore", str(backup)])
                assert run.returncode == 0, run.stderr
                restores.append(run.seconds)
            if postgres:
                continue
            source = url.removeprefix("sqlite:///")
            run = run_python_child(
                [SCRIPT, "--child", "bare", source, str(Path(folder) / f"bare-{round_}.db")]
            )
            bare.append(float(run.output["seconds"]))
            stop = Path(folder) / f"stop-{round_}"
            writer = subprocess.Popen(
                [sys.executable, SCRIPT, "--child", "writer", url, str(stop)],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # let the writer start committing before the backup begins
            concurrent = Path(folder) / f"concurrent-{round_}.db"
            run = run_child([str(GRIDBOARD), "--database-url", url, "backup", str(concurrent)])
            assert run.returncode == 0, run.stderr
            stop.touch()
            out, _ = writer.communicate()
            figures = json.loads(out.strip().splitlines()[-1])
            writer_max.append(figures["max_ms"])
            writer_median.append(figures["median_ms"])

    print(f"{rows:,} measurements, backup file {size:,.1f} MB, {args.repeat} rounds")
    print(f"gridboard backup   {spread(backups)}  {size / median(backups):,.1f} MB/s")
    print(f"gridboard restore  {spread(restores)}  {size / median(restores):,.1f} MB/s")
    if bare:
        print(f"bare sqlite3 backup (no checks)  {spread(bare)}")
        print(
            f"writer commit while a backup runs: median {median(writer_median):.1f} ms, "
            f"longest {max(writer_max):.1f} ms"
        )


if __name__ == "__main__":
    main()
