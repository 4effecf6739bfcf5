"""What webhooks cost an import that raises and clears many alarms: the outbox rows it writes.

    python bench/webhooks.py [--before PATH] [--database-url URL] [--rounds 3]

Writes a measurements file of 20 kV lines whose voltage wanders across the alarm bands (many
raises and clears), then imports it into fresh databases, interleaved round by round: with
the tree at ``--before`` (a worktree of the code before webhooks, if given), with this tree
and no webhook, and with this tree and 3 active webhooks (one outbox row per transition and
webhook). Each import runs in its own child process.
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
sys.path.insert(0, str(ROOT / "bench"))

from imports import drop, fresh_url  # noqa: E402 (a script beside this one)

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from sqlalchemy import text
from core.db import Database
from core.domain import SYSTEM_ACTOR
from core.imports import import_components, import_measurements
db = Database.from_url({url!r}); db.migrate()
with db.write() as s:
    import_components(session=s, actor=SYSTEM_ACTOR, source=Path({components!r}),
                      file_name="components.csv")
    for n in range({webhooks!r}):
        s.execute(text("INSERT INTO webhooks (url, secret, active, created_at, created_by) "
                       "VALUES (:u, 'a-bench-secret-long', true, CURRENT_TIMESTAMP, 'bench')"),
                  {{"u": f"https://93.184.216.34/{{n}}"}})
began = time.perf_counter()
with db.write() as s:
    summary = import_measurements(session=s, actor=SYSTEM_ACTOR, source=Path({measurements!r}),
                                  file_name="measurements.csv")
seconds = time.perf_counter() - began
with db.read() as s:
    events = s.execute(text("SELECT count(*) FROM alarm_events")).scalar_one()
    outbox = (s.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one()
              if {webhooks!r} else 0)
print(json.dumps({{"seconds": seconds, "rows": summary.inserted, "events": events,
                  "outbox": outbox}}))
"""


def write_files(folder: Path, components: int, steps: int) -> tuple[Path, Path]:
    names = [f"L{i:03d}" for i in range(components)]
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
    times = pl.datetime_range(
        pl.datetime(2024, 1, 1, time_zone="UTC"),
        pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(minutes=15 * (steps - 1)),
        "15m",
        eager=True,
    ).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    rng = np.random.default_rng(7)
    measurements_csv = folder / "measurements.csv"
    pl.DataFrame(
        {
            "component_name": np.repeat(names, steps),
            "substation": np.repeat([f"SS-{i // 8:03d}" for i in range(components)], steps),
            "timestamp": np.tile(times.to_numpy(), components),
            "measurement_type": ["voltage"] * (steps * components),
            "value": rng.normal(20, 1.6, steps * components).round(3),
        }
    ).write_csv(measurements_csv)
    return component_csv, measurements_csv


def run(tree: Path, url: str, files: tuple[Path, Path], webhooks: int) -> dict[str, float]:
    code = CHILD.format(
        root=str(tree), url=url, components=str(files[0]), measurements=str(files[1]),
        webhooks=webhooks,
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tree
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, help="a worktree of the code before webhooks")
    parser.add_argument("--database-url", help="a postgresql+psycopg:// URL (default: SQLite)")
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridboard-bench-"))
    files = write_files(folder, args.components, args.steps)
    print(f"{args.components * args.steps} voltage rows, load {os.getloadavg()[0]:.1f}")
    variants = [("this tree, no webhook", ROOT, 0), ("this tree, 3 webhooks", ROOT, 3)]
    if args.before is not None:
        variants.insert(0, ("before webhooks", args.before.resolve(), 0))
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for round_number in range(args.rounds):
        for name, tree, hooks in variants:
            url = fresh_url(args.database_url, folder, f"r{round_number}{hooks}{len(name)}")
            try:
                result = run(tree, url, files, hooks)
            finally:
                drop(url)
            seconds[name].append(result["seconds"])
            print(
                f"round {round_number + 1} {name}: {result['seconds']:.2f} s, "
                f"{result['events']} alarm events, {result['outbox']} outbox rows"
            )
    for name, values in seconds.items():
        print(f"{name}: median {sorted(values)[len(values) // 2]:.2f} s over {len(values)}")


if __name__ == "__main__":
    main()
