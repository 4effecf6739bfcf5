"""The floor under bench/api.py's single posts on PostgreSQL: what one post's transaction costs
on psycopg alone, with no HTTP, no SQLAlchemy session and no GridBoard code around it.

    python bench/pg_floor.py [--database-url URL] [--posts 3000] [--rounds 3]

Seeds 100 components x 2,000 measurements and a manager into a throwaway PostgreSQL database,
then, on one psycopg connection, writes ``--posts`` new measurements per variant with the very
statements a ``POST /measurements`` runs (compiled from GridBoard's own: the caller's user, the
component's type and voltage, the rollups' advisory lock, the insert, the rollup upsert):

- ``as GridBoard``: ``SET LOCAL lock_timeout``, the five statements and ``COMMIT``, one round
  trip each (psycopg sends ``BEGIN`` before the first): what a post's write waits for;
- ``pipelined``: the same statements in psycopg's pipeline mode, three waits (the reads and
  the lock; the insert, whose id decides the rest; the upsert and the commit);
- ``no flush``: ``as GridBoard`` with ``synchronous_commit`` off for the transaction (not what
  GridBoard does: a crash could lose posts already answered); the commit's wait for the disk
  is the difference;
- ``one round trip``: ``SELECT 1``, autocommit: a single exchange with the server.

Rounds are interleaved (each round runs every variant once), so a busy moment hurts them
alike. Per variant: the median over rounds of wall time per post, posts per second, and CPU
time per post of this process and of the PostgreSQL backend serving it (from /proc). A post
through HTTP costs these plus the server's HTTP work and the client's: one client can send no
more single posts per second than ``as GridBoard`` allows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchlib import GRIDBOARD, machine, seed_command, throwaway_database  # noqa: E402
from core.access.sign_in_tokens import _USER_STAMPS  # noqa: E402
from core.measurements import rollups  # noqa: E402
from core.measurements.measurement_store import _COMPONENT_KEY, _insert_new  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "grid-watch-7731"  # noqa: S105 (a throwaway benchmark user)
COMPONENTS = 100
BUSY_TIMEOUT_MS = 10_000  # GridBoard's default


def _sql(statement: Any) -> str:
    """GridBoard's statement as SQLAlchemy compiles it for psycopg (named parameters)."""
    return str(statement.compile(dialect=postgresql.psycopg.dialect()))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Post:
    """One new measurement per call, written as a post writes it."""

    user = _sql(_USER_STAMPS.statement)
    component = _sql(_COMPONENT_KEY.statement)
    insert = _sql(_insert_new("postgresql").statement)
    upsert = _sql(rollups._upsert("postgresql").statement)
    lock = _sql(rollups._LOCK.statement)

    def __init__(self, connection: psycopg.Connection[Any], first_us: int) -> None:
        self.connection, self.next_us = connection, first_us

    def _values(self, index: int) -> tuple[int, int]:
        self.next_us += 1_000_000
        return 1 + index % COMPONENTS, self.next_us

    def _upsert_row(self, kind: tuple[str, float | None], micros: int) -> dict[str, object]:
        return {
            "component_type": kind[0],
            "measurement_type": "power",
            "bucket_us": rollups.floor_bucket(micros),
            "voltage_kv": rollups.level(kind[1]),
            "sample_count": 1,
            **dict.fromkeys(("value_sum", "value_min", "value_max"), 1.5),
        }

    def serial(self, index: int, *, flush: bool = True) -> None:
        component_id, micros = self._values(index)
        cursor = self.connection.cursor()
        if not flush:
            cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
        assert cursor.execute(self.user, {"username": "bench"}).fetchone() is not None
        kind = cursor.execute(self.component, {"component_id": component_id}).fetchone()
        assert kind is not None
        cursor.execute(self.lock)
        row = {"component_id": component_id, "measurement_type": "power"}
        added = cursor.execute(self.insert, {**row, "timestamp_us": micros, "value": 1.5})
        assert added.fetchone() is not None
        cursor.execute(self.upsert, self._upsert_row(kind, micros))
        self.connection.commit()

    def pipelined(self, index: int) -> None:
        component_id, micros = self._values(index)
        connection = self.connection
        with connection.pipeline() as pipeline:
            cursor, user, component = (connection.cursor() for _ in range(3))
            cursor.execute(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
            user.execute(self.user, {"username": "bench"})
            component.execute(self.component, {"component_id": component_id})
            cursor.execute(self.lock)
            pipeline.sync()
            assert user.fetchone() is not None
            kind = component.fetchone()
            assert kind is not None
            row = {"component_id": component_id, "measurement_type": "power"}
            added = cursor.execute(self.insert, {**row, "timestamp_us": micros, "value": 1.5})
            assert added.fetchone() is not None
            cursor.execute(self.upsert, self._upsert_row(kind, micros))
            connection.commit()


def _seed(url: str) -> None:
    subprocess.run(seed_command(url, COMPONENTS, 2_000), check=True, capture_output=True)
    subprocess.run(
        [str(GRIDBOARD), "--database-url", url, "create-user", "bench", "--role", "manager",
         "--password-stdin"],
        input=PASSWORD + "\n", text=True, check=True, capture_output=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL server")
    parser.add_argument("--posts", type=int, default=3000, help="posts per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with throwaway_database(args.database_url, "floor") as url:
        _seed(url)
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(plain) as connection, psycopg.connect(plain) as pinger:
            pinger.autocommit = True
            backend = {
                id(connection): connection.execute("SELECT pg_backend_pid()").fetchone(),
                id(pinger): pinger.execute("SELECT pg_backend_pid()").fetchone(),
            }
            connection.rollback()
            first_us = int(datetime(2040, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
            post = Post(connection, first_us)
            variants: dict[str, tuple[psycopg.Connection[Any], Callable[[int], object]]] = {
                "as GridBoard": (connection, post.serial),
                "pipelined": (connection, post.pipelined),
                "no flush": (connection, lambda index: post.serial(index, flush=False)),
                "one round trip": (pinger, lambda _: pinger.execute("SELECT 1").fetchone()),
            }
            for _, write in variants.values():  # warm up: prepared statements, caches
                for index in range(100):
                    write(index)
            figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, (used, write) in variants.items():
                    pid = backend[id(used)]
                    assert pid is not None
                    server_before, cpu_before = _cpu_seconds(pid[0]), time.process_time()
                    began = time.perf_counter()
                    for index in range(args.posts):
                        write(index)
                    wall = time.perf_counter() - began
                    figures[name].append(
                        (
                            wall / args.posts,
                            (time.process_time() - cpu_before) / args.posts,
                            (_cpu_seconds(pid[0]) - server_before) / args.posts,
                        )
                    )
    summary: dict[str, dict[str, float]] = {}
    for name, rounds in figures.items():
        wall, client, server = (statistics.median(values) for values in zip(*rounds, strict=True))
        summary[name] = {
            "ms_per_post": round(wall * 1000, 3),
            "posts_per_s": round(1 / wall),
            "client_cpu_ms": round(client * 1000, 3),
            "backend_cpu_ms": round(server * 1000, 3),
        }
        print(
            f"{name}: {wall * 1000:.2f} ms per post ({1 / wall:,.0f} per s); CPU per post: "
            f"psycopg's process {client * 1000:.2f} ms, PostgreSQL's backend "
            f"{server * 1000:.2f} ms (median of {args.rounds} rounds of {args.posts})"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
