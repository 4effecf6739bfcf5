"""JSON arrays become the CSV text the importers read, item N at line N + 1."""

from __future__ import annotations

import pytest

from core.errors import ImportRejection, UnreadableFile
from core.imports.json_rows import json_array_csv


def test_keys_become_columns_and_missing_or_null_cells_are_empty():
    data = b'[{"a": 1, "b": "x\\"y"}, {"b": null, "c": 2.5, "d": true}]'
    assert json_array_csv(data, "rows.json", columns=["z"]).decode().splitlines() == [
        '"z","a","b","c","d"',
        '"","1","x""y","",""',
        '"","","","2.5","true"',
    ]


def test_what_is_not_an_array_of_objects_is_refused_with_its_reason():
    with pytest.raises(UnreadableFile, match="must be a JSON array of objects"):
        json_array_csv(b'{"a": 1}', "rows.json")
    with pytest.raises(UnreadableFile, match="is not JSON: Expecting value at line 1"):
        json_array_csv(b"[1,", "rows.json")
    with pytest.raises(UnreadableFile, match="the array is empty"):
        json_array_csv(b"[]", "rows.json")
    with pytest.raises(ImportRejection) as refused:
        json_array_csv(b'[{"a": "x"}, "text", {"a": "two\\nlines"}]', "rows.json")
    assert [(p.line, p.column, p.reason) for p in refused.value.problems] == [
        (3, "", "is str, not an object"),
        (4, "a", "must not contain line breaks"),
    ]
