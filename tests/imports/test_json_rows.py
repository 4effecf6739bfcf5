"""JSON arrays become the CSV file the importers read, item N at line N + 1, one item at a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.import_errors import SHOWN_PROBLEMS, ImportRejection, UnreadableFile
from core.imports.json_rows import MAX_ITEM_CHARS, json_array_csv


def _convert(tmp_path: Path, data: bytes, columns: tuple[str, ...] = ()) -> list[str]:
    source, target = tmp_path / "rows.json", tmp_path / "rows.csv"
    source.write_bytes(data)
    json_array_csv(source, target, "rows.json", columns=columns)
    return target.read_text(encoding="utf-8").splitlines()


def _refusal(tmp_path: Path, data: bytes) -> str:
    with pytest.raises(UnreadableFile) as refused:
        _convert(tmp_path, data)
    return refused.value.reason


def test_keys_become_columns_and_missing_or_null_cells_are_empty(tmp_path):
    data = b'[{"a": 1, "b": "x\\"y"}, {"b": null, "c": 2.5, "d": true}]'
    assert _convert(tmp_path, data, columns=("z",)) == [
        '"z","a","b","c","d"',
        ',"1","x""y",,',
        ',,,"2.5","true"',
    ]


def test_numbers_keep_the_text_they_were_written_with(tmp_path):
    digits = "9" * 5_000
    data = f'[{{"value": {digits}}}, {{"value": 1e400}}, {{"value": 0.1000000000000000055}}]'
    assert _convert(tmp_path, data.encode()) == [
        '"value"',
        f'"{digits}"',
        '"1e400"',
        '"0.1000000000000000055"',
    ]


def test_what_is_not_an_array_of_objects_is_refused_with_its_reason(tmp_path):
    assert _refusal(tmp_path, b'{"a": 1}') == "must be a JSON array of objects, one per row"
    assert _refusal(tmp_path, b"[1,") == "is not JSON: Expecting value at line 1, column 4"
    assert _refusal(tmp_path, b"[]") == "the array is empty"
    assert _refusal(tmp_path, b"  \n ") == "the file is empty"
    assert _refusal(tmp_path, b"\xff[]") == "is not UTF-8 JSON text"
    with pytest.raises(ImportRejection) as refused:
        _convert(tmp_path, b'[{"a": "x"}, "text", {"a": "two\\nlines"}, {"a": [1], "b": {}}]')
    assert [(p.line, p.column, p.reason) for p in refused.value.problems] == [
        (3, "", "is a string, not an object"),
        (4, "a", "must not contain line breaks"),
        (5, "a", "is an array; a cell is text, a number, true, false or null"),
        (5, "b", "is an object; a cell is text, a number, true, false or null"),
    ]


def test_broken_json_is_placed_by_line_and_column_anywhere_in_a_large_file(tmp_path):
    row = '{"component_id": 1, "measurement_type": "power", "value": 1.5},\n'
    lines = 40_000  # about 2.6 MB: past the first window the reader holds
    data = "[\n" + row * lines + '{"value": 1.5,, "x": 1}]\n'
    assert _refusal(tmp_path, data.encode()) == (
        f"is not JSON: Expecting property name enclosed in double quotes at line {lines + 2}, "
        "column 15"
    )
    assert _refusal(tmp_path, b'[{"a": 1}] [') == "is not JSON: Extra data at line 1, column 12"
    assert _refusal(tmp_path, b'[{"a": 1} {"a": 2}]') == (
        "is not JSON: Expecting ',' delimiter at line 1, column 11"
    )


def test_deep_nesting_and_overlong_items_are_refused_not_crashed_on(tmp_path):
    deep = b'[{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]"
    assert _refusal(tmp_path, deep) == (
        "item 1 (at line 1, column 2) nests arrays or objects too deeply; each item must be one "
        "object of plain values"
    )
    long = b'[{"a": 1}, {"name": "' + b"x" * (3 * MAX_ITEM_CHARS) + b'"}, {"a": 2}]'
    assert _refusal(tmp_path, long) == (
        f"item 2 (at line 1, column 12) is longer than {MAX_ITEM_CHARS:,} characters; each item "
        "is one row of short values"
    )


def test_many_bad_items_keep_the_first_problems_and_count_the_rest(tmp_path):
    with pytest.raises(ImportRejection) as refused:
        _convert(tmp_path, b"[" + b",".join([b"7"] * 200_000) + b"]")
    assert [p.line for p in refused.value.problems] == list(range(2, SHOWN_PROBLEMS + 2))
    assert refused.value.total == 200_000
    assert str(refused.value).endswith(f"... and {200_000 - SHOWN_PROBLEMS:,} more problems")


_PEAK = """
import resource, sys
from pathlib import Path
from core.imports.json_rows import json_array_csv
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
json_array_csv(Path(sys.argv[1]), Path(sys.argv[2]), "rows.json")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_a_large_array_is_converted_in_memory_bounded_by_an_item_not_the_file(tmp_path):
    row = (
        b'{"component_id": 1, "measurement_type": "power", '
        b'"timestamp": "2024-05-01T00:00:00Z", "value": 12.5}'
    )
    source = tmp_path / "rows.json"
    with source.open("wb") as handle:  # 32 MB: json.loads alone would take about 4 GB
        handle.write(b"[")
        handle.write(b",\n".join([row] * 320_000))
        handle.write(b"]")
    assert source.stat().st_size > 32_000_000
    command = [sys.executable, "-c", _PEAK, str(source), str(tmp_path / "rows.csv")]
    peak = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2]
    )
    grown_kib = int(peak.stdout)
    assert grown_kib * 1024 < 64 << 20  # a few windows of 2 MB, however long the file
    assert len((tmp_path / "rows.csv").read_text().splitlines()) == 320_001
