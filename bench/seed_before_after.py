"""``gridboard seed`` of this tree against another tree (the code before a change), interleaved
with ``bench/seed.py``'s bare floor, so that a busy machine hurts every figure alike.

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/seed_before_after.py /tmp/before [--rounds 5]

Each round runs, one after the other: the whole command of the other tree (this virtualenv's
Python with ``PYTHONPATH`` set to that tree), the whole command of this tree, and the floor
(one ``sqlite3`` ``executemany`` of the same keyed rows; ``bench/seed.py --child baseline``).
It prints the best and median wall time, the median CPU time (user + system of the child) and
the peak RSS of each, and each tree's best wall time over the floor's: the figure whose target
is < 1.4. Under load the wall times swing by several times; the CPU times swing far less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        sys.exit(f"{command} failed:\n{process.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path, help="the other tree (a git worktree)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    args = parser.parse_args()
    trees = {"before": str(args.before.resolve()), "after": str(ROOT)}
    sizes = [str(args.components), str(args.per_component)]
    figures: dict[str, list[tuple[float, float, float]]] = {"before": [], "after": [], "floor": []}
    for number in range(1, args.rounds + 1):
        for name in figures:
            folder = Path(tempfile.mkdtemp(prefix="gridboard-seed-ab-"))
            env = dict(os.environ)
            if name == "floor":
                command = [sys.executable, str(HERE / "seed.py"), "--child", "baseline",
                           str(folder / "bench.db"), *sizes, "bare"]  # fmt: skip
            else:
                env["PYTHONPATH"] = trees[name]
                command = [sys.executable, "-m", "core.cli", "--database-url",
                           f"sqlite:///{folder / 'bench.db'}", "seed", "--components",
                           sizes[0], "--per-component", sizes[1]]  # fmt: skip
            figures[name].append(run(command, env))
            shutil.rmtree(folder, ignore_errors=True)
            print(f"round {number} {name}: {figures[name][-1]}", file=sys.stderr)
    for name, runs in figures.items():
        walls, cpus = [w for w, _, _ in runs], [c for _, c, _ in runs]
        peak = max(r for *_, r in runs)
        print(
            f"{name}: wall best {min(walls):.2f} s, median {statistics.median(walls):.2f} s; "
            f"CPU median {statistics.median(cpus):.2f} s; peak RSS {peak:.0f} MB"
        )
    floor = min(w for w, _, _ in figures["floor"])
    for name in ("before", "after"):
        print(f"{name} / floor, best of each: {min(w for w, _, _ in figures[name]) / floor:.2f}")


if __name__ == "__main__":
    main()
