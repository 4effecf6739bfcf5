"""Building a page of component records from their row values, in-process (CPU time).

    python bench/component_records.py             # this checkout
    PYTHONPATH=/tmp/before python bench/component_records.py   # another checkout's code

Times ``ComponentRecord.of_values`` over 100 rows (what ``GET /components`` builds per page),
200 pages per sample, 9 samples: the minimum and the median in ms of CPU per 100 records.
Run it over several checkouts one after the other, in rounds, to compare them.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from core.grid.components import RECORD_COLUMNS, ComponentRecord

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _row(number: int) -> tuple[object, ...]:
    values = {
        "id": number, "name": f"T{number}", "substation": "Riverside",
        "component_type": "transformer", "capacity_mva": 40.0, "voltage_kv": 110.0,
        "created_at": NOW, "created_by": "mona", "updated_at": NOW, "updated_by": "mona",
    }  # fmt: skip
    return tuple(values.get(column.key) for column in RECORD_COLUMNS)


def main() -> None:
    rows = [_row(number) for number in range(100)]
    samples = []
    for _ in range(9):
        started = time.process_time()
        for _ in range(200):
            [ComponentRecord.of_values(row) for row in rows]
        samples.append((time.process_time() - started) / 200 * 1000)
    print(f"min {min(samples):.3f} ms, median {statistics.median(samples):.3f} ms per 100 records")


if __name__ == "__main__":
    main()
