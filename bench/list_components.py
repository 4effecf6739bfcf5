"""How fast the components page's query answers on a seeded database (target: < 20 ms).

    python bench/list_components.py                   # SQLite, 100 x 10,000 = 1M measurements
    python bench/list_components.py --components 10000 --per-component 0   # a big inventory
    python bench/list_components.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Seeds a throwaway database (a temp SQLite file, or a new database on the PostgreSQL server of
``--database-url``), then times ``core.grid.components.list_components`` with the filters the page
offers. Each call opens its own read session, as a page does for one user action; the figure
is the median (and 95th percentile) of ``--repeat`` calls after a few warm-up calls.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchlib import machine, throwaway_database

from core.db import Database
from core.domain import SYSTEM_ACTOR, ComponentType
from core.grid.components import ComponentSort, list_components, list_substations
from core.seed import seed_grid

TARGET_MS = 20.0
WARM_UP = 3


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile of ``call`` in milliseconds."""
    for _ in range(WARM_UP):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a postgresql+psycopg:// URL (default: SQLite)")
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    print(f"machine: {machine()}")
    with throwaway_database(args.database_url, "list") as url:
        database = Database.from_url(url)
        database.migrate()
        started = time.perf_counter()
        with database.write() as session:
            summary = seed_grid(
                session=session,
                actor=SYSTEM_ACTOR,
                components=args.components,
                per_component=args.per_component,
            )
        print(
            f"{database.engine.dialect.name}: seeded {summary.components} components, "
            f"{summary.measurements:,} measurements in {time.perf_counter() - started:.1f} s"
        )
        with database.read() as session:
            substations = list_substations(session=session)
        place = substations[0].removeprefix("SS-")[:4].lower()

        def page(**filters: Any) -> Callable[[], Any]:
            def call() -> Any:
                with database.read() as session:
                    return list_components(session=session, **filters)

            return call

        def substation_names() -> Any:
            with database.read() as session:
                return list_substations(session=session)

        cases: dict[str, Callable[[], Any]] = {
            "first page, no filter, by name": page(),
            f"search {place!r}": page(search=place),
            "type = transformer": page(component_types=frozenset({ComponentType.TRANSFORMER})),
            "two substations": page(substations=frozenset(substations[:2])),
            "search + type + by voltage desc": page(
                search="t",
                component_types=frozenset({ComponentType.LINE, ComponentType.TRANSFORMER}),
                sort=ComponentSort.VOLTAGE_KV,
                descending=True,
            ),
            "last page": page(offset=max(0, summary.components - 50)),
            "list_substations (filter choices)": substation_names,
        }
        print(f"  {'case':<40} {'median':>9} {'p95':>9}   (target < {TARGET_MS:.0f} ms)")
        for label, call in cases.items():
            middle, high = timed(call, args.repeat)
            print(f"  {label:<40} {middle:7.2f}ms {high:7.2f}ms")
        database.dispose()


if __name__ == "__main__":
    main()
