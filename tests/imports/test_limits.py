"""Import files are measured before they are read: rows, size and columns over the limits
(``GRIDBOARD_IMPORT_MAX_ROWS``, ``GRIDBOARD_IMPORT_MAX_MEGABYTES``, 100 columns) are refused
with a message and nothing written, so one small hostile upload cannot take the memory every
session of the server shares."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from core.config import get_settings
from core.import_errors import UnreadableFile
from core.imports import preview_file
from core.imports.table import MAX_COLUMNS
from core.models import Measurement
from tests.imports.support import MEASUREMENTS_HEADER, csv_file, run_components, run_measurements

ROW = "T1,Riverside,2024-05-01T00:00:00Z,voltage,110"


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set GRIDBOARD_IMPORT_* for one test."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _set(limits: pytest.MonkeyPatch, **values: int) -> None:
    for name, value in values.items():
        limits.setenv(f"GRIDBOARD_IMPORT_{name.upper()}", str(value))
    get_settings.cache_clear()


def _stored(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Measurement)) or 0)


def _repeated(value: str, rows: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array([value]))


def _dictionary_parquet(rows: int, *, group_rows: int = 1_000_000, value: str = "110") -> bytes:
    """``rows`` copies of one measurement, dictionary-encoded: a few hundred kilobytes that
    decode to gigabytes. Written a row group at a time, so building it stays small too."""
    group = min(rows, group_rows)
    table = pa.table(
        {
            "component_name": _repeated("T1", group),
            "substation": _repeated("Riverside", group),
            "timestamp": _repeated("2024-05-01T00:00:00Z", group),
            "measurement_type": _repeated("voltage", group),
            "value": _repeated(value, group),
        }
    )
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, table.schema, compression="zstd") as writer:
        for _ in range(rows // group):
            writer.write_table(table)
    return buffer.getvalue()


def test_a_tiny_parquet_file_of_20_million_rows_is_refused_before_it_is_read(db, grid):
    data = _dictionary_parquet(20_000_000)
    assert len(data) < 1_000_000
    with pytest.raises(UnreadableFile) as refused:
        run_measurements(db, data, file_name="tiny.parquet")
    message = str(refused.value)
    assert "tiny.parquet: has 20,000,000 rows" in message
    assert "at most 5,000,000 rows per file" in message
    assert _stored(db) == 0
    # the preview reads its first rows only, in a batch of its own size
    preview = preview_file(source=data, file_name="tiny.parquet", rows=3)
    assert preview["component_name"].to_list() == ["T1"] * 3


def test_parquet_text_over_the_size_limit_is_refused_before_it_is_decoded(db, grid):
    # 1,000 rows whose one dictionary value is 1 MB: 1 GB of text from a small file
    data = _dictionary_parquet(1_000, value="1" * 1_000_000)
    assert len(data) < 100_000
    with pytest.raises(UnreadableFile, match="its text once decoded is over 500 MB"):
        run_measurements(db, data, file_name="wide.parquet")
    assert _stored(db) == 0


def test_parquet_pages_over_the_size_limit_are_refused_from_the_metadata(db, grid, limits):
    _set(limits, max_megabytes=1)
    data = _dictionary_parquet(1, value="1" * 2_000_000)  # 2 MB that zstd packs into little
    assert len(data) < 10_000
    with pytest.raises(UnreadableFile, match="its data uncompressed is over 1 MB"):
        run_measurements(db, data, file_name="packed.parquet")


def test_a_parquet_file_at_the_row_limit_imports_and_one_over_it_is_refused(db, grid, limits):
    table = pa.table(
        {
            "component_name": ["T1"] * 4,
            "substation": ["Riverside"] * 4,
            "timestamp": [f"2024-05-01T00:0{minute}:00Z" for minute in range(4)],
            "measurement_type": ["voltage"] * 4,
            "value": [110.0, 110.5, 111.0, 109.5],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    _set(limits, max_rows=3)
    with pytest.raises(UnreadableFile, match="has 4 rows; GridBoard imports at most 3 rows"):
        run_measurements(db, buffer.getvalue(), file_name="four.parquet")
    _set(limits, max_rows=4)
    assert run_measurements(db, buffer.getvalue(), file_name="four.parquet").inserted == 4


def test_csv_rows_over_the_limit_are_refused_and_the_limit_itself_imports(db, grid, limits):
    _set(limits, max_rows=3)
    rows = [ROW.replace("00:00:00", f"00:0{minute}:00") for minute in range(4)]
    with pytest.raises(UnreadableFile, match=r"has 4 lines after the header; .* at most 3 rows"):
        run_measurements(db, csv_file(MEASUREMENTS_HEADER, *rows))
    assert _stored(db) == 0
    assert run_measurements(db, csv_file(MEASUREMENTS_HEADER, *rows[:3])).inserted == 3


def test_a_csv_file_over_the_size_limit_is_refused_before_it_is_read(db, grid, limits, tmp_path):
    _set(limits, max_megabytes=1)
    path = tmp_path / "big.csv"
    path.write_bytes(csv_file(MEASUREMENTS_HEADER, *[ROW] * 30_000))
    assert path.stat().st_size > 1_000_000
    for source in (path, path.read_bytes()):  # the command line's path, the page's upload
        with pytest.raises(UnreadableFile, match=r"big.csv: is too big .*over 1 MB"):
            run_measurements(db, source, file_name="big.csv")
        with pytest.raises(UnreadableFile, match="over 1 MB"):
            preview_file(source=source, file_name="big.csv")
    assert _stored(db) == 0


# --- columns ---------------------------------------------------------------------------

WIDE_CSV = (",".join(["a"] * 4_000) + "\n" + ",".join(["1"] * 4_000) + "\n").encode()


def test_4000_columns_named_a_are_refused_by_the_preview_and_the_imports(db):
    reason = f"has 4,000 columns; GridBoard reads files of at most {MAX_COLUMNS} columns"
    with pytest.raises(UnreadableFile, match=reason):
        preview_file(source=WIDE_CSV, file_name="wide.csv")
    with pytest.raises(UnreadableFile, match=reason):
        run_measurements(db, WIDE_CSV, file_name="wide.csv")
    with pytest.raises(UnreadableFile, match=reason):
        run_components(db, WIDE_CSV, file_name="wide.csv")


def test_a_parquet_file_of_4000_columns_is_refused_from_its_metadata(db):
    buffer = io.BytesIO()
    pq.write_table(pa.table({f"a{i}": [1] for i in range(4_000)}), buffer)
    reason = "has 4,000 columns; GridBoard reads files of at most 100 columns"
    with pytest.raises(UnreadableFile, match=reason):
        preview_file(source=buffer.getvalue(), file_name="wide.parquet")
    with pytest.raises(UnreadableFile, match=reason):
        run_measurements(db, buffer.getvalue(), file_name="wide.parquet")


def test_repeated_header_names_are_told_apart_in_the_preview():
    header = ["a"] * 50 + ["a'", "", "line", " a "]
    data = (",".join(header) + "\n" + ",".join(str(i) for i in range(len(header))) + "\n").encode()
    preview = preview_file(source=data, file_name="dup.csv")
    primes = ["a" + "'" * count for count in range(50)]
    assert preview.columns == [
        "line",
        *primes,
        "a" + "'" * 50,
        "column 52",
        "line'",
        "a" + "'" * 51,
    ]
    assert preview.row(0) == (2, *(str(i) for i in range(len(header))))


def test_imports_in_one_process_run_one_at_a_time(db, grid, monkeypatch):
    """Sessions of one app process are threads: two uploads at once must not hold two
    files' worth of memory, so the second waits for the first (and both are imported)."""
    from core.imports import measurements

    inside = most = 0
    count = threading.Lock()
    read = measurements.read_csv_table

    def slow_read(*args, **kwargs):
        nonlocal inside, most
        with count:
            inside += 1
            most = max(most, inside)
        time.sleep(0.3)  # long enough for the other thread to arrive
        try:
            return read(*args, **kwargs)
        finally:
            with count:
                inside -= 1

    monkeypatch.setattr(measurements, "read_csv_table", slow_read)
    files = [
        csv_file(MEASUREMENTS_HEADER, ROW.replace("00:00:00", f"0{hour}:00:00")) for hour in (1, 2)
    ]
    threads = [threading.Thread(target=run_measurements, args=(db, data)) for data in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    assert _stored(db) == 2
