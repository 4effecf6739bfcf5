"""How long a 60-component substation's single-line diagram takes on the server (target:
< 100 ms), read and drawn as the page, the API and the CLI do, and drawn alone.

    .venv/bin/python bench/diagram.py                  # SQLite, one substation of 60
    .venv/bin/python bench/diagram.py --components 120 --repeat 50

Builds a throwaway SQLite database holding one substation of ``--components`` components (a
third each transformers, lines and switches, over three voltage levels) with a voltage, a
current and a power value each, then times ``core.diagram.substation_diagram`` (the read and
the drawing, one read session per call) and ``substation_svg`` alone; prints the median and
the slowest of ``--repeat`` calls after a warm-up, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchlib import machine

from core.db import open_database
from core.diagram import substation_diagram, substation_svg
from core.domain import SYSTEM_ACTOR
from core.grid.components import create_component
from core.grid.substations import read_substation
from core.measurements.measurements import add_measurement

TARGET_MS = 100.0
TYPES = (
    {"component_type": "transformer", "capacity_mva": 250},
    {"component_type": "line", "length_km": 12.75, "to_substation": "Far end"},
    {"component_type": "switch", "status": "closed"},
)
LEVELS = (380, 110, 20)


def _timed(call, repeat: int) -> list[float]:
    call()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'diagram.db'}")
        moment = datetime(2024, 5, 1, tzinfo=UTC)
        with database.write() as session:
            for n in range(args.components):
                fields = dict(TYPES[n % 3], name=f"C{n:03d}", substation="Big")
                if n % 3 != 2:
                    fields["voltage_kv"] = LEVELS[n % 5 % 3]
                record = create_component(session=session, actor=SYSTEM_ACTOR, fields=fields)
                for kind, value in (("voltage", 110.0), ("current", 120.0), ("power", 9.5)):
                    add_measurement(
                        session=session, actor=SYSTEM_ACTOR, component_id=record.id,
                        measurement_type=kind, timestamp=moment, value=value,
                    )  # fmt: skip

        def read_and_draw() -> None:
            with database.read() as session:
                substation_diagram(session=session, name="Big")

        with database.read() as session:
            view = read_substation(session=session, name="Big")
        whole = _timed(read_and_draw, args.repeat)
        drawn = _timed(lambda: substation_svg(view), args.repeat)
        size = len(substation_svg(view).encode())
        database.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.components} components, SVG of {size:,} bytes, {args.repeat} calls each")
    print(
        f"read and drawn: median {statistics.median(whole):.1f} ms, slowest {max(whole):.1f} ms"
        f" (target < {TARGET_MS:.0f} ms)"
    )
    print(f"drawn alone:    median {statistics.median(drawn):.1f} ms, slowest {max(drawn):.1f} ms")
    print(f"peak memory of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
