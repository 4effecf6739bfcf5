"""A report's files: numbers short enough to read, and the same bytes however many threads."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from core.domain import SYSTEM_ACTOR
from core.reports import kpis
from core.reports.export import read_table_csv, table_csv
from core.seed import seed_grid

ROOT = Path(__file__).resolve().parents[2]
END = datetime(2025, 3, 1, tzinfo=UTC)


def test_numbers_are_written_with_at_most_twelve_significant_digits():
    frame = pl.DataFrame(
        {
            "voltage_kv": [0.4, 20.0, 110.0],
            "line_count": [3, 1, 2],
            "total_length_km": [14.270000000000003, 1 / 3, 123456789.123456789],
        }
    )
    lines = table_csv(frame).decode().splitlines()
    assert lines[1:] == ["0.4,3,14.27", "20,1,0.333333333333", "110,2,123456789.123"]
    back = read_table_csv(kpis.LINE_LENGTH, table_csv(frame).decode())
    assert back["total_length_km"].to_list() == [14.27, 0.333333333333, 123456789.123]


def _report_files(url: str, out: Path, threads: int) -> dict[str, bytes]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "core.cli",
            "--database-url",
            url,
            "report",
            "--start",
            "2024-12-01T00:00:00+00:00",
            "--end",
            END.isoformat(),
            "--tz",
            "Europe/Zurich",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "POLARS_MAX_THREADS": str(threads)},
        check=True,
        capture_output=True,
    )
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_the_same_request_gives_the_same_bytes_whatever_the_thread_count(db, tmp_path):
    with db.write() as session:
        seed_grid(session=session, actor=SYSTEM_ACTOR, components=40, per_component=3_000, end=END)
    url = db.engine.url.render_as_string(hide_password=False)
    one = _report_files(url, tmp_path / "one", 1)
    four = _report_files(url, tmp_path / "four", 4)
    assert sorted(one) == sorted(f"{name}.csv" for name in kpis.TABLES)
    assert len(one[f"{kpis.DAILY_AVERAGES_BY_VOLTAGE}.csv"].splitlines()) > 100
    assert one == four
