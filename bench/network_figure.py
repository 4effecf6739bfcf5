"""How long the network map's figure takes to build for a seeded grid (its first view; later
views reuse it), with its parallel lines bowed apart.

    .venv/bin/python bench/network_figure.py                      # 10,000 components
    .venv/bin/python bench/network_figure.py --components 2000 --repeat 20
    .venv/bin/python bench/network_figure.py --compare-with OLD.py  # interleaved with another

Seeds a throwaway SQLite database with ``--components`` components (one measurement each),
reads its network once, then times ``network_figure`` ``--repeat`` times after a warm-up and
prints the median and the slowest. ``--compare-with`` names another version of
``views/figures/network_figure.py`` (``git show COMMIT:views/figures/network_figure.py``),
timed in turn with this one on the same network.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # views/ is not installed

from bench.benchlib import machine
from core.db import open_database
from core.domain import SYSTEM_ACTOR
from core.grid.network import Network, circuits, read_network
from core.seed import seed_grid
from views.figures.network_figure import network_figure


def _other(path: str) -> Callable[[Network], Any]:
    spec = importlib.util.spec_from_file_location("other_network_figure", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    build: Callable[[Network], Any] = module.network_figure
    return build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--compare-with", default=None)
    args = parser.parse_args()
    print(machine())
    builders = {"this": network_figure}
    if args.compare_with:
        builders["other"] = _other(args.compare_with)
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'network.db'}")
        with database.write() as session:
            seed_grid(
                session=session, actor=SYSTEM_ACTOR, components=args.components, per_component=1
            )
        with database.read() as session:
            network = read_network(session=session)
        database.dispose()
    parallel = sum(count > 1 for _place, count in circuits(network.lines).values())
    print(
        f"{len(network.substations):,} substations, {len(network.lines):,} lines, "
        f"{parallel:,} of them parallel to another"
    )
    times: dict[str, list[float]] = {name: [] for name in builders}
    for build in builders.values():
        build(network)  # warm-up
    for _ in range(args.repeat):
        for name, build in builders.items():  # interleaved: the machine's load hits both
            started = time.perf_counter()
            build(network)
            times[name].append((time.perf_counter() - started) * 1000)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.1f} ms, slowest {max(values):.1f} ms")


if __name__ == "__main__":
    main()
