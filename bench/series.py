"""One component's series read and downsampled for a chart, on a seeded database.

    python bench/series.py [--database-url URL] [--repeat 20]

Seeds a throwaway SQLite database (100 components x 10,000 measurements) when none is given,
then times ``read_series`` for one component and type: its whole range (about 3,334 points,
returned raw), and ranges large enough to hold 10,000 and more points from a denser extra
series, reduced to at most 2,000 buckets (min, max, mean) by the database.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from core.db import Database  # noqa: E402
from core.domain import MeasurementType  # noqa: E402
from core.measurements.measurement_store import write_measurements  # noqa: E402
from core.measurements.measurements import read_series, series_bounds  # noqa: E402


def median_ms(function, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench-series.db"
        gridboard = str(Path(sys.executable).with_name("gridboard"))
        subprocess.run([gridboard, "--database-url", url, "seed"], check=True)
    database = Database.from_url(url)
    database.migrate()
    # a dense extra series: 1,000,000 one-minute power samples on component 1
    with database.read() as session:
        bounds = series_bounds(session=session, component_id=1)
    assert bounds.last is not None
    dense_start = bounds.last + timedelta(days=1)
    count = 1_000_000
    start_us = int(dense_start.timestamp() * 1_000_000)
    frame = pl.DataFrame(
        {
            "component_id": [1] * count,
            "measurement_type": ["current"] * count,
            "timestamp_us": [start_us + i * 60_000_000 for i in range(count)],
            "value": [float(i % 1440) for i in range(count)],
        }
    )
    with database.write() as session:
        write_measurements(session, frame, overwrite=True)

    def chart(start: datetime, end: datetime, kind: MeasurementType) -> int:
        with database.read() as session:
            series = read_series(
                session=session,
                component_id=1,
                measurement_type=kind,
                start=start,
                end=end,
                max_points=2000,
            )
        return series.raw_count

    first = bounds.first or datetime(1970, 1, 1, tzinfo=UTC)
    cases = [
        ("whole seeded range, power", first, bounds.last + timedelta(seconds=1), "power"),
        ("10,000 dense points", dense_start, dense_start + timedelta(minutes=10_000), "current"),
        ("100,000 dense points", dense_start, dense_start + timedelta(minutes=100_000), "current"),
        ("1,000,000 dense points", dense_start, dense_start + timedelta(minutes=count), "current"),
    ]
    print(f"database: {database.url}")
    for label, low, high, kind in cases:
        raw = chart(low, high, MeasurementType(kind))
        ms = median_ms(lambda: chart(low, high, MeasurementType(kind)), args.repeat)  # noqa: B023
        rate = raw / ms * 1000
        print(f"{label:28} {raw:>9,} raw points -> chart in {ms:7.1f} ms ({rate:,.0f} points/s)")


if __name__ == "__main__":
    main()
