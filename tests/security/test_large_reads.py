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
from core.measurements.series_writer import SeriesBlock, new_series_writer
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


def _export_peak(url: str, out: Path, tmp_path: Path, *args: str) -> int:
    """Peak memory of `gridboard export-measurements OUT ARGS`, run in a process of its own."""
    program = (
        "import sys\nfrom pathlib import Path\nfrom core.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "peak = [l for l in Path('/proc/self/status').read_text().splitlines()"
        " if l.startswith('VmHWM:')][0].split()[1]\n"
        "print('PEAK', int(peak) * 1024)\nsys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, "--database-url", url, "export-measurements", str(out),
         *args],
        cwd=ROOT, env=_environment(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split("PEAK")[-1])


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_exporting_a_long_series_takes_the_memory_of_a_short_one(
    db: Database, tmp_path: Path, suffix: str
):
    component_id = _long_series(db)
    url = db.engine.url.render_as_string(hide_password=False)
    short = _export_peak(
        url, tmp_path / f"short.{suffix}", tmp_path, "--component-id", str(component_id),
        "--end", "2024-01-01T01:00:00Z",
    )  # fmt: skip
    whole = tmp_path / f"whole.{suffix}"
    long = _export_peak(url, whole, tmp_path, "--component-id", str(component_id))
    frame = pl.read_csv(whole) if suffix == "csv" else pl.read_parquet(whole)
    assert frame.height == 3 * PER_TYPE
    assert frame.columns == ["component_name", "substation", "timestamp", "measurement_type",
                             "value"]  # fmt: skip
    assert long - short < GROWTH_LIMIT // 2, f"{(long - short) >> 20} MB more for 600,000 rows"
