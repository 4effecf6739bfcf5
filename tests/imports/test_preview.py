"""The preview a manager sees before importing: the file's first rows, as text, with lines."""

from __future__ import annotations

import io

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.import_errors import UnreadableFile
from core.imports import preview_file


def test_the_first_rows_come_with_the_lines_they_start_on():
    data = (
        b"\xef\xbb\xbfcomponent_name, Substation ,value\n"
        b"T1,Riverside,1\n"
        b"\n"
        b'"L\n1",Riverside\n'
        b"S1,Riverside,3\n"
    )
    preview = preview_file(source=data, file_name="m.csv", rows=2)
    expected = pl.DataFrame(
        {
            "line": [2, 4],
            "component_name": ["T1", "L\n1"],
            "Substation": ["Riverside", "Riverside"],
            "value": ["1", ""],  # a short row is padded, so the user sees what is missing
            "problem": ["", "has 2 fields but the header has 3"],  # as the import will say
        }
    )
    assert_frame_equal(preview, expected)


def test_a_decimal_comma_is_shown_as_the_problem_the_import_will_refuse():
    data = b"component_name,substation,value\nT1,Riverside,12,5\nT2,Riverside,7.5\n"
    preview = preview_file(source=data, file_name="m.csv")
    assert preview["value"].to_list() == ["12", "7.5"]
    assert preview["problem"].to_list() == ["has 4 fields but the header has 3", ""]
    clean = preview_file(source=b"a,b\n1,2\n", file_name="m.csv")
    assert clean.columns == ["line", "a", "b"]  # no problem column when there is none


def test_a_header_only_file_previews_no_rows():
    preview = preview_file(source=b"a,b\n", file_name="m.csv")
    assert preview.columns == ["line", "a", "b"] and preview.height == 0


def test_parquet_is_previewed_as_text():
    buffer = io.BytesIO()
    pl.DataFrame({"component_id": [1, 2, 3], "value": [0.5, None, 2.0]}).write_parquet(buffer)
    preview = preview_file(source=buffer.getvalue(), file_name="m.parquet", rows=2)
    expected = pl.DataFrame({"line": [2, 3], "component_id": ["1", "2"], "value": ["0.5", ""]})
    assert_frame_equal(preview, expected)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02", "binary"),
        ("a,b\n1,2\n".encode("utf-16"), "UTF-16"),
        (b"a;b;c\n1;2;3\n", "separated by ';'"),
    ],
)
def test_an_unreadable_file_is_refused_before_the_preview(data, reason):
    with pytest.raises(UnreadableFile, match=reason):
        preview_file(source=data, file_name="m.csv")
