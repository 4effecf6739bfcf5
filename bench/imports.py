"""CSV import speed, and what keeping the rollups up to date costs of it.

    python bench/imports.py [--database-url URL] [--components 100] [--per-component 10000]

Writes a measurements CSV (15-minute series, one row per component, type and time), then
imports it into fresh databases: once as GridBoard does it, once with rollup upkeep switched
off (``core.measurements.rollups.add``/``remove`` replaced by no-ops) to show its share of
the import time.
Each import runs in a child process; peak memory is its high-water RSS (``VmHWM``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from core.measurements import rollups
from core.db import Database
from core.domain import SYSTEM_ACTOR
from core.imports import import_components, import_measurements
if {no_rollups!r}:
    rollups.add = lambda *a, **k: None
    rollups.remove = lambda *a, **k: None
db = Database.from_url({url!r}); db.migrate()
with db.write() as s:
    import_components(session=s, actor=SYSTEM_ACTOR, source=Path({components!r}),
                      file_name="components.csv")
began = time.perf_counter()
with db.write() as s:
    summary = import_measurements(session=s, actor=SYSTEM_ACTOR, source=Path({measurements!r}),
                                  file_name="measurements.csv")
seconds = time.perf_counter() - began
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({{"seconds": seconds, "rows": summary.inserted, "peak_mb": hwm / 1024}}))
"""


def write_files(folder: Path, components: int, per_component: int) -> tuple[Path, Path]:
    names = [f"C{i:04d}" for i in range(components)]
    component_csv = folder / "components.csv"
    pl.DataFrame(
        {
            "name": names,
            "substation": [f"SS-{i // 8:03d}" for i in range(components)],
            "component_type": ["line"] * components,
            "capacity_mva": [None] * components,
            "voltage_kv": [20.0] * components,
            "length_km": [3.5] * components,
            "status": [None] * components,
        }
    ).write_csv(component_csv)
    steps = per_component // 3
    times = pl.datetime_range(
        pl.datetime(2024, 1, 1, time_zone="UTC"),
        pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(minutes=15 * (steps - 1)),
        "15m",
        eager=True,
    ).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = steps * 3 * components
    rng = np.random.default_rng(1)
    measurements_csv = folder / "measurements.csv"
    pl.DataFrame(
        {
            "component_name": np.repeat(names, steps * 3),
            "substation": np.repeat([f"SS-{i // 8:03d}" for i in range(components)], steps * 3),
            "timestamp": np.tile(np.repeat(times.to_numpy(), 3), components),
            "measurement_type": np.tile(["voltage", "current", "power"], steps * components),
            "value": rng.normal(20, 2, rows).round(4),
        }
    ).write_csv(measurements_csv)
    return component_csv, measurements_csv


def run(url: str, files: tuple[Path, Path], *, no_rollups: bool) -> dict[str, float]:
    code = CHILD.format(
        root=str(ROOT),
        url=url,
        components=str(files[0]),
        measurements=str(files[1]),
        no_rollups=no_rollups,
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_url(base: str | None, folder: Path, tag: str) -> str:
    if base is None:
        return f"sqlite:///{folder / f'{tag}.db'}"
    import psycopg
    from sqlalchemy import make_url

    name = f"gridboard_bench_{tag}_{os.getpid()}"
    admin = make_url(base).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop(url: str) -> None:
    """Drop a PostgreSQL database ``fresh_url`` made (SQLite files go with the temp folder)."""
    if not url.startswith("postgresql"):
        return
    import psycopg
    from sqlalchemy import make_url

    server = make_url(url)
    admin = server.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="a postgresql+psycopg:// URL (default: SQLite)")
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridboard-bench-"))
    files = write_files(folder, args.components, args.per_component)
    size_mb = files[1].stat().st_size / 1e6
    print(f"file: {files[1]} ({size_mb:.0f} MB), load average {os.getloadavg()[0]:.1f}")
    urls = [fresh_url(args.database_url, folder, tag) for tag in ("a", "b")]
    try:
        with_rollups = run(urls[0], files, no_rollups=False)
        without = run(urls[1], files, no_rollups=True)
    finally:
        for url in urls:
            drop(url)
    share = (with_rollups["seconds"] - without["seconds"]) / with_rollups["seconds"]
    print(
        f"import {with_rollups['rows']:,.0f} rows: {with_rollups['seconds']:.2f} s "
        f"({with_rollups['rows'] / with_rollups['seconds']:,.0f} rows/s), "
        f"peak RSS {with_rollups['peak_mb']:.0f} MB"
    )
    print(
        f"without rollup upkeep: {without['seconds']:.2f} s; rollups cost {share:.0%} "
        "of the import time"
    )


if __name__ == "__main__":
    main()
