"""Reading a long series costs bounded memory: a real `gridboard api` answering four whole-series
reads at once, and `gridboard export-measurements`. Linux: peak memory is read from /proc."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import polars as pl
import pytest

from core.access.api_tokens import create_api_token
from core.db import Database
from core.domain import SYSTEM_ACTOR
from core.measurements.raw_measurements import BATCH_ROWS
from core.measurements.series_writer import SeriesBlock, new_series_writer
from core.timestamps import from_micros
from tests.api.test_server import _free_port, _wait_for
from tests.factories import make_component

ROOT = Path(__file__).resolve().parents[2]
PER_TYPE = 200_000  # 600,000 rows, the attack's series
FIRST_US = 1_704_067_200_000_000  # 2024-01-01T00:00Z
CADENCE_US = 60_000_000
# What a reader may add to the process that serves it, whatever the range holds. On main, one
# JSON read of these 600,000 rows added about 400 MB, and four at once went past 1.5 GB.
GROWTH_LIMIT = 128 << 20
# SQLite keeps up to 64 MB of pages per connection (core.db's cache_size), whatever the range:
# four reads at once hold four connections.
PAGE_CACHES = 4 * (64 << 20)


def _long_series(db: Database) -> int:
    component = make_component(db)
    values = np.round(110 + np.sin(np.arange(PER_TYPE) / 50), 3)[np.newaxis, :]
    with db.write() as session, new_series_writer(session) as writer:
        writer.write(
            [
                SeriesBlock(
                    component_ids=np.array([component.id], dtype=np.int64),
                    measurement_type=kind,
                    first_us=FIRST_US,
                    cadence_us=CADENCE_US,
                    values=values,
                    decimals=3,
                )
                for kind in ("voltage", "current", "power")
            ]
        )
    return component.id


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = os.environ | {
        "GRIDBOARD_COOKIE_KEY": "k" * 40, "GRIDBOARD_LOG_LEVEL": "WARNING",
        "TMPDIR": str(tmp_path), "GRIDBOARD_APP_RUNS_REPORTS": "false",
    }  # fmt: skip
    environment.pop("GRIDBOARD_DEMO", None)
    return environment


def _read(base: str, path: str, token: str, params: dict[str, str]) -> tuple[dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", base + path, params=params, headers=headers, timeout=300) as answer:
        assert answer.status_code == 200, answer.read()
        return dict(answer.headers), answer.read()


def test_four_whole_series_reads_at_once_leave_the_api_s_memory_flat(db: Database, tmp_path: Path):
    component_id = _long_series(db)
    with db.write() as session:
        token = create_api_token(session=session, actor=SYSTEM_ACTOR, name="r", scope="read")
    url = db.engine.url.render_as_string(hide_password=False)
    port = _free_port()
    command = [sys.executable, "-m", "core.cli", "--database-url", url, "api", "--port", str(port)]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base, path = f"http://127.0.0.1:{port}", f"/components/{component_id}/measurements"
    try:
        _wait_for(port, server)
        hour = {"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T01:00:00Z"}
        for fmt in ("json", "csv", "parquet"):  # every format's code loaded before measuring
            _, small = _read(base, path, token.secret, {**hour, "format": fmt})
            assert small
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak := now
        before = _status(server.pid, "VmRSS")
        formats = ["json", "csv", "parquet", "json"]
        with ThreadPoolExecutor(len(formats)) as pool:
            answers = list(
                pool.map(lambda fmt: _read(base, path, token.secret, {"format": fmt}), formats)
            )
        grown = _status(server.pid, "VmHWM") - before
    finally:
        server.terminate()
        server.wait(timeout=30)
    limit = GROWTH_LIMIT + (PAGE_CACHES if db.engine.dialect.name == "sqlite" else 0)

    rows = 3 * PER_TYPE
    for fmt, (headers, body) in zip(formats, answers, strict=True):
        assert headers["x-raw-count"] == str(rows) and headers["x-downsampled"] == "false"
        if fmt == "json":
            read = json.loads(body)
            assert len(read) == rows
            assert read[0] == {
                "timestamp": "2024-01-01T00:00:00Z", "measurement_type": "voltage",
                "value": 110.0, "min_value": 110.0, "max_value": 110.0, "sample_count": 1,
            }  # fmt: skip
            assert [r["measurement_type"] for r in read[:: PER_TYPE]] == [
                "voltage", "current", "power"
            ]  # fmt: skip
        elif fmt == "csv":
            lines = body.decode().splitlines()
            assert lines[0] == "timestamp,measurement_type,value,min_value,max_value,sample_count"
            assert len(lines) == rows + 1
        else:
            frame = pl.read_parquet(io.BytesIO(body))
            assert frame.height == rows and frame["measurement_type"][-1] == "power"
            assert frame["timestamp"].dtype == pl.Datetime("us", "UTC")
    assert grown < limit, f"the API grew by {grown >> 20} MB answering four reads"


# The export reads BATCH_ROWS rows of each type at a time and writes them as one Parquet row
# group (one CSV chunk): an export of that many minutes already holds all a batch costs (some
# 19 MB in Parquet, 12 MB in CSV, most of it the allocators' working set), so the long export
# is compared with it rather than with a few rows. The long one may add the file's bookkeeping
# and the allocators' scatter over its 40 batches (4 to 7 MB measured); holding the series, or
# fetching it whole, added 90 to 165 MB when the streaming was broken on purpose.
ONE_BATCH_END = from_micros(FIRST_US + BATCH_ROWS * CADENCE_US).isoformat()
EXPORT_MARGIN = 16 << 20
# In one process: an export of the first hour (imports, thread pools, compiled statements),
# then one batch's export, then the whole series', each peak from the same baseline. SQLite
# keeps each connection's pages up to core.db's cache_size (64 MB), which a long read fills
# (39 MB for this series, more in a fragmented file) whatever the export holds; the API's
# test counts those caches. Here the export's own memory is measured: a 2 MB cache.
_EXPORTS = """
import sqlite3, sys
from pathlib import Path
from sqlalchemy import event
from sqlalchemy.pool import Pool
from core.cli import main

@event.listens_for(Pool, "checkout")
def _small_page_cache(connection, record, proxy):
    if isinstance(connection, sqlite3.Connection):
        connection.execute("PRAGMA cache_size=-2048")

def status(field):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines()
                if l.startswith(field + ":"))
    return int(line.split()[1]) * 1024

def peak(out, *args):
    Path("/proc/self/clear_refs").write_text("5")  # peak := now
    assert main([*sys.argv[1:], str(out), *args]) == 0
    return status("VmHWM") - baseline

out, end, hour = Path(sys.argv.pop()), sys.argv.pop(), sys.argv.pop()
assert main([*sys.argv[1:], str(out.with_stem("hour")), "--end", hour]) == 0
baseline = status("VmRSS")
one = peak(out.with_stem("one-batch"), "--end", end)
print("PEAKS", one, peak(out))
"""


def _export_peaks(url: str, component_id: int, out: Path, tmp_path: Path) -> tuple[int, int]:
    """Peak memory of `gridboard export-measurements` writing one batch, then the whole
    series to ``out``, over the same baseline in one process (``_EXPORTS``)."""
    arguments = ["--database-url", url, "export-measurements", "--component-id",
                 str(component_id), "2024-01-01T01:00:00Z", ONE_BATCH_END, str(out)]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", _EXPORTS, *arguments],
        cwd=ROOT, env=_environment(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    one, whole = done.stdout.split("PEAKS")[-1].split()
    return int(one), int(whole)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_exporting_a_long_series_takes_the_memory_of_a_short_one(
    db: Database, tmp_path: Path, suffix: str
):
    assert PER_TYPE >= 20 * BATCH_ROWS  # the long series is many batches: 40
    component_id = _long_series(db)
    url = db.engine.url.render_as_string(hide_password=False)
    whole = tmp_path / f"whole.{suffix}"
    one, long = _export_peaks(url, component_id, whole, tmp_path)
    read = pl.read_csv if suffix == "csv" else pl.read_parquet
    frame = read(whole)
    assert frame.height == 3 * PER_TYPE
    assert frame.columns == ["component_name", "substation", "timestamp", "measurement_type",
                             "value"]  # fmt: skip
    assert read(whole.with_stem("one-batch")).height == 3 * BATCH_ROWS
    assert long - one < EXPORT_MARGIN, (
        f"{(long - one) >> 20} MB more for 600,000 rows than for {3 * BATCH_ROWS:,} "
        f"({one >> 20} MB)"
    )
