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
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

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
