"""Peak memory of reading a tiny hostile Parquet file: 20 million dictionary-encoded rows
in a few hundred kilobytes, as GridBoard reads an upload (refused from its metadata, and
previewed from its first rows) beside a whole ``pl.read_parquet`` of it, which is what the
import did before it measured files first.

    python bench/parquet_limits.py [--rows 20000000]

Each reading runs in its own child process; its peak RSS is read when it exits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine, run_python_child

READERS = {
    "import (refused from the metadata)": """
try:
    read_parquet_frame(data, "tiny.parquet")
except UnreadableFile as error:
    message = str(error)
""",
    "preview (first 20 rows)": """
message = f"{preview_file(source=data, file_name='tiny.parquet', rows=20).height} rows"
""",
    "pl.read_parquet of all of it (the import before)": """
frame = pl.read_parquet(io.BytesIO(data))
message = f"{frame.height:,} rows, {frame.estimated_size() / 1e6:,.0f} MB as a frame"
""",
}

CHILD = """
import io, json, sys, time
sys.path.insert(0, {root!r})
import polars as pl
from core.errors import UnreadableFile
from core.imports.parquet_table import read_parquet_frame
from core.imports.preview import preview_file
data = open({path!r}, "rb").read()
began = time.perf_counter()
{body}
print(json.dumps({{"seconds": time.perf_counter() - began, "message": message}}))
"""


def hostile_file(path: Path, rows: int) -> int:
    group = min(rows, 1_000_000)
    column = pa.DictionaryArray.from_arrays(pa.array([0] * group, pa.int32()), pa.array(["T1"]))
    table = pa.table(
        dict.fromkeys(
            ("component_name", "substation", "timestamp", "measurement_type", "value"), column
        )
    )
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(rows // group):
            writer.write_table(table)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    args = parser.parse_args()
    root = str(Path(__file__).resolve().parent.parent)
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.parquet"
        size = hostile_file(path, args.rows)
        print(f"file: {args.rows:,} rows in {size / 1e3:,.0f} kB\n")
        print("| reading | time | peak RSS | outcome |")
        print("|---|---|---|---|")
        for label, body in READERS.items():
            run = run_python_child(["-c", CHILD.format(root=root, path=str(path), body=body)])
            outcome = run.output.get("message", f"exit {run.returncode}: {run.stderr[-200:]}")
            seconds = run.output.get("seconds", run.seconds)
            print(f"| {label} | {seconds:.2f} s | {run.peak_rss_mb:,.0f} MB | {outcome} |")


if __name__ == "__main__":
    main()
