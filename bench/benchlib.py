"""What the benchmark scripts share: throwaway databases, measured child processes, output.

Peak memory is the peak resident set size (``ru_maxrss``) of a child process that does only
the measured work, read with ``os.wait4`` when it exits: tracemalloc would slow a million-row
loop several times over and misses memory that numpy, Polars and SQLite allocate themselves.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psycopg
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
GRIDBOARD = Path(sys.executable).parent / "gridboard"


def seed_command(url: str, components: int, per_component: int) -> list[str]:
    """``gridboard seed`` of ``components`` x ``per_component`` measurements into ``url``."""
    return [
        str(GRIDBOARD),
        "--database-url",
        url,
        "seed",
        "--components",
        str(components),
        "--per-component",
        str(per_component),
    ]


GRID_COLUMNS = ("id", "component_type", "voltage_kv", "capacity_mva", "rated_current_a")


def grid_components(url: str) -> pl.DataFrame:
    """The components of a seeded database, with what makes a value plausible for each (a
    checkout from before lines had a rated current gets an empty ``rated_current_a``)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        result = connection.execute(text("SELECT * FROM components ORDER BY id"))
        names = list(result.keys())
        rows = [dict(zip(names, row, strict=True)) for row in result.all()]
    engine.dispose()
    return pl.DataFrame(
        [tuple(row.get(name) for name in GRID_COLUMNS) for row in rows],
        schema={"id": pl.Int64, "component_type": pl.String, "voltage_kv": pl.Float64,
                "capacity_mva": pl.Float64, "rated_current_a": pl.Float64},
        orient="row",
    )  # fmt: skip


def plausible_csv(
    path: Path,
    components: pl.DataFrame,
    rows: int,
    outside: float = 0.0,
    start: datetime = datetime(2030, 1, 1, tzinfo=UTC),
) -> int:
    """``rows`` 15-minute samples from ``start`` of every component and type, by component,
    each plausible for its component (volts in kV about the nominal, a current about half the
    rating, a transformer's power about half its capacity); ``outside`` of them beyond their
    alarm limit. Returns how many rows were put beyond it."""
    rng = np.random.default_rng(29)
    kinds = ["voltage", "current", "power"]
    count = components.height
    per_series = -(-rows // (count * len(kinds)))
    index = np.repeat(np.arange(count), per_series * len(kinds))[:rows]
    kind = np.tile(np.repeat(np.arange(3), per_series), count)[:rows]
    step = np.tile(np.arange(per_series), count * len(kinds))[:rows]
    kv = components.get_column("voltage_kv").fill_null(1.0).to_numpy()[index]
    amps = components.get_column("rated_current_a").fill_null(200.0).to_numpy()[index]
    transformer = (components.get_column("component_type") == "transformer").to_numpy()[index]
    mva = components.get_column("capacity_mva").fill_null(0.0).to_numpy()[index]
    power = np.where(transformer, 0.5 * mva, 0.2 * kv)
    nominal = np.select([kind == 0, kind == 1], [kv, 0.5 * amps], power)
    spread = np.where(kind == 0, 0.01, 0.1)
    values = nominal * (1 + rng.normal(0, 1, rows) * spread)
    # beyond the alarm limit: 1.15x the nominal kV, 1.2x the rated current or capacity
    beyond = (rng.random(rows) < outside) & ((kind != 2) | transformer)
    values = np.where(beyond, np.where(kind == 0, 1.15 * kv, 2.4 * nominal), values)
    first_us = int(start.timestamp() * 1_000_000)
    pl.DataFrame(
        {
            "component_id": components.get_column("id").to_numpy()[index],
            "measurement_type": np.array(kinds)[kind],
            "timestamp": pl.Series(first_us + step * 900_000_000)
            .cast(pl.Datetime("us", "UTC"))
            .dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
            "value": np.round(values, 4),
        }
    ).write_csv(path)
    return int(beyond.sum())


@dataclass(frozen=True)
class ChildRun:
    seconds: float  # wall time of the whole child process
    peak_rss_mb: float
    output: dict[str, Any]  # the JSON the child printed last, if any
    returncode: int
    stderr: str
    cpu_seconds: float = 0.0  # user + system time of the child (and its waited children)


def run_child(command: Sequence[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run ``command`` (in ``env``, else this environment), timing it and reading its peak
    RSS; its last stdout line may be JSON."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=stdout, stderr=stderr, cwd=ROOT, env=env)
        _pid, status, rusage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        lines = stdout.read().strip().splitlines()
        errors = stderr.read()
    output: dict[str, Any] = {}
    if lines and lines[-1].startswith("{"):
        output = json.loads(lines[-1])
    return ChildRun(
        seconds,
        rusage.ru_maxrss / 1024,
        output,
        process.returncode,
        errors,
        rusage.ru_utime + rusage.ru_stime,
    )


def run_python_child(args: Sequence[str]) -> ChildRun:
    return run_child([sys.executable, *args])


def child_result(**figures: Any) -> None:
    """Print the figures of a measured child as its last stdout line."""
    print(json.dumps(figures))


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


@contextmanager
def throwaway_database(url: str | None, label: str) -> Iterator[str]:
    """A new, empty database: a SQLite file in a temp dir, or a new database on the
    PostgreSQL server of ``url`` (dropped afterwards)."""
    if url is None or not is_postgresql(url):
        directory = Path(tempfile.mkdtemp(prefix=f"gridboard-bench-{label}-"))
        try:
            yield f"sqlite:///{directory / 'bench.db'}"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    server = make_url(url)
    admin_url = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"gridboard_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {os.getloadavg()[0]:.2f}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """``median (min-max)`` of seconds."""
    return f"{median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"
