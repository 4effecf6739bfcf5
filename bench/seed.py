"""How fast ``gridboard seed`` fills a database, against a bare sqlite3 ``executemany``.

    python bench/seed.py                       # 100 x 10,000 = 1M rows on SQLite, 3 rounds
    python bench/seed.py --large               # ... and 1,000 x 10,000 = 10M rows once
    python bench/seed.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Each figure comes from its own child process, so peak memory (``ru_maxrss``) is that of the
measured work alone, and rounds interleave so that a busy machine hurts every figure alike:

* whole command: ``gridboard seed`` end to end (interpreter start, imports, migrations, seed);
* ``seed_grid`` in-process: the ``Database.write()`` block around ``seed_grid``, commit included;
* baseline: the same keys, in the same order, already built as Python tuples, inserted with one
  ``executemany`` and a commit by bare ``sqlite3`` into a table with the same unique index and
  the same connection settings (WAL, synchronous=NORMAL, 64 MB cache). A second baseline uses
  GridBoard's own measurements table (foreign key and CHECK constraint), to show what the schema
  itself costs.

On PostgreSQL each round seeds a new throwaway database on the server of ``--database-url``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchlib import (
    GRIDBOARD,
    ChildRun,
    child_result,
    is_postgresql,
    machine,
    median,
    run_child,
    run_python_child,
    spread,
    throwaway_database,
)

SCRIPT = str(Path(__file__).resolve())
END = datetime(2025, 6, 1, tzinfo=UTC)
TYPES = ("current", "power", "voltage")  # the order of the unique index
SQLITE_SETTINGS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)
BARE_TABLE = (
    "CREATE TABLE measurements (id INTEGER PRIMARY KEY, component_id INTEGER NOT NULL, "
    "measurement_type VARCHAR(16) NOT NULL, timestamp_us BIGINT NOT NULL, value FLOAT NOT NULL)",
    "CREATE UNIQUE INDEX uq_measurements_key "
    "ON measurements (component_id, measurement_type, timestamp_us)",
)


# --- measured children -------------------------------------------------------------------


def child_seed(url: str, components: int, per_component: int) -> None:
    from core.db import Database
    from core.domain import SYSTEM_ACTOR
    from core.seed import seed_grid

    database = Database.from_url(url)
    started = time.perf_counter()
    database.migrate()
    migrated = time.perf_counter()
    with database.write() as session:
        summary = seed_grid(
            session=session,
            actor=SYSTEM_ACTOR,
            components=components,
            per_component=per_component,
            end=END,
        )
    finished = time.perf_counter()
    database.dispose()
    child_result(
        migrate_s=migrated - started, seed_s=finished - migrated, rows=summary.measurements
    )


def _keyed_rows(components: int, per_component: int) -> list[tuple[int, str, int, float]]:
    """The seed's keys in the order it writes them: index order (component, type, time),
    cut into windows of time only when a series is longer than a block of the seed."""
    from core.seed import CHUNK_ROWS

    share, remainder = divmod(per_component, 3)
    counts = {"voltage": share + (remainder > 0), "current": share + (remainder > 1)}
    steps = max(counts.values())
    first_step = {kind: steps - counts.get(kind, share) for kind in TYPES}
    cadence_us = 15 * 60 * 1_000_000
    end_us = int(END.timestamp()) * 1_000_000
    first_us = end_us - (steps - 1) * cadence_us
    window = max(1, CHUNK_ROWS // 3)
    value = random.Random(42).random
    return [
        (component, kind, first_us + step * cadence_us, value())
        for start in range(0, steps, window)
        for component in range(1, components + 1)
        for kind in TYPES
        for step in range(max(start, first_step[kind]), min(steps, start + window))
    ]


def child_baseline(path: str, components: int, per_component: int, schema: str) -> None:
    rows = _keyed_rows(components, per_component)
    if schema == "gridboard":
        from core.db import Database

        database = Database.from_url(f"sqlite:///{path}")
        database.migrate()
        database.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    for setting in SQLITE_SETTINGS:
        connection.execute(setting)
    if schema == "gridboard":
        connection.execute("PRAGMA foreign_keys=ON")
        connection.executemany(
            "INSERT INTO components (id, name, substation, component_type, status, created_at, "
            "created_by, updated_at, updated_by) VALUES (?, ?, 'bench', 'switch', 'closed', "
            "'2025-01-01', 'bench', '2025-01-01', 'bench')",
            [(number, f"S{number}") for number in range(1, components + 1)],
        )
    else:
        for statement in BARE_TABLE:
            connection.execute(statement)
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO measurements (component_id, measurement_type, timestamp_us, value) "
        "VALUES (?, ?, ?, ?)",
        rows,
    )
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    child_result(seed_s=seconds, rows=len(rows))


# --- the benchmark -----------------------------------------------------------------------


def _checked(run: ChildRun, what: str) -> ChildRun:
    if run.returncode != 0:
        sys.exit(f"{what} failed (exit {run.returncode}):\n{run.stderr}")
    return run


def cli_available() -> bool:
    if not GRIDBOARD.exists():
        return False
    return run_child([str(GRIDBOARD), "seed", "--help"]).returncode == 0


def whole_command(url: str | None, components: int, per_component: int) -> ChildRun:
    with throwaway_database(url, "cli") as target:
        return _checked(
            run_child(
                [
                    str(GRIDBOARD),
                    "seed",
                    "--database-url",
                    target,
                    "--components",
                    str(components),
                    "--per-component",
                    str(per_component),
                ]
            ),
            "gridboard seed",
        )


def in_process(url: str | None, components: int, per_component: int) -> ChildRun:
    with throwaway_database(url, "seed") as target:
        return _checked(
            run_python_child(
                [SCRIPT, "--child", "seed", target, str(components), str(per_component)]
            ),
            "seed_grid",
        )


def baseline(components: int, per_component: int, schema: str) -> ChildRun:
    with throwaway_database(None, "baseline") as target:
        path = target.removeprefix("sqlite:///")
        return _checked(
            run_python_child(
                [SCRIPT, "--child", "baseline", path, str(components), str(per_component), schema]
            ),
            "baseline",
        )


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds / 1e6:.2f}M rows/s"


def report(label: str, runs: Sequence[ChildRun], rows: int, *, key: str | None = None) -> float:
    seconds = [run.output[key] if key else run.seconds for run in runs]
    peak = max(run.peak_rss_mb for run in runs)
    print(
        f"  {label:<44} {spread(seconds):<22} {rate(rows, median(seconds)):<16} "
        f"peak RSS {peak:.0f} MB"
    )
    return median(seconds)


def rounds(count: int) -> Iterator[int]:
    for number in range(1, count + 1):
        print(f"  round {number}/{count}...", file=sys.stderr)
        yield number


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a postgresql+psycopg:// URL (default: SQLite)")
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the 1M figures")
    parser.add_argument("--large", action="store_true", help="also seed 10x the components")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "seed":
            child_seed(rest[0], int(rest[1]), int(rest[2]))
        else:
            child_baseline(rest[0], int(rest[1]), int(rest[2]), rest[3])
        return

    url = args.database_url
    backend = "PostgreSQL" if url and is_postgresql(url) else "SQLite"
    rows = args.components * args.per_component
    print(f"machine: {machine()}")
    print(f"{backend}, {args.components} components x {args.per_component} = {rows:,} rows")
    print("  (median (min-max) of the rounds; peak RSS = max ru_maxrss of the child processes)")
    has_cli = cli_available()
    runs: dict[str, list[ChildRun]] = {"cli": [], "seed": [], "bare": [], "schema": []}
    for _ in rounds(args.repeat):
        if has_cli:
            runs["cli"].append(whole_command(url, args.components, args.per_component))
        runs["seed"].append(in_process(url, args.components, args.per_component))
        if backend == "SQLite":
            runs["bare"].append(baseline(args.components, args.per_component, "bare"))
            runs["schema"].append(baseline(args.components, args.per_component, "gridboard"))

    if has_cli:
        report("whole command `gridboard seed`", runs["cli"], rows)
    else:
        print(f"  whole command: {GRIDBOARD} seed is not available yet")
    seed_s = report("seed_grid in-process (with commit)", runs["seed"], rows, key="seed_s")
    migrate_s = median([run.output["migrate_s"] for run in runs["seed"]])
    print(f"  {'migrations before it (same child)':<44} {migrate_s:.2f} s")
    if backend == "SQLite":
        bare_s = report("baseline: bare sqlite3 executemany", runs["bare"], rows, key="seed_s")
        schema_s = report(
            "baseline with GridBoard's table (FK, CHECK)", runs["schema"], rows, key="seed_s"
        )
        best_bare = min(run.output["seed_s"] for run in runs["bare"])
        best_seed = min(run.output["seed_s"] for run in runs["seed"])
        print(
            f"  ratio seed_grid / bare baseline: {seed_s / bare_s:.2f} "
            f"(best of each: {best_seed / best_bare:.2f})"
        )
        print(f"  ratio GridBoard's table / bare table: {schema_s / bare_s:.2f}")
        if has_cli:
            whole = median([run.seconds for run in runs["cli"]])
            best_whole = min(run.seconds for run in runs["cli"])
            print(
                f"  ratio whole command / bare baseline: {whole / bare_s:.2f} "
                f"(best of each: {best_whole / best_bare:.2f}; target < 1.4)"
            )

    if args.large:
        large = args.components * 10
        large_rows = large * args.per_component
        print(f"{backend}, {large} components x {args.per_component} = {large_rows:,} rows")
        run = in_process(url, large, args.per_component)
        large_s = report("seed_grid in-process (with commit)", [run], large_rows, key="seed_s")
        small_peak = max(run.peak_rss_mb for run in runs["seed"])
        print(f"  time / (10 x the 1M time): {large_s / (10 * seed_s):.2f}  (linear = 1.0)")
        print(f"  peak RSS / 1M peak RSS: {run.peak_rss_mb / small_peak:.2f}  (target <= 2)")


if __name__ == "__main__":
    main()
