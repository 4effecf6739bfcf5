"""CSV records and the lines they start on, as Python's csv module and an editor see them.

Big files are split into records without reading them one by one; these tests hold that fast
reading to the plain definition: every record ``csv.reader`` yields, starting on the line after
the previous one ended, blank ones skipped.
"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from core.imports.csv_table import read_csv_table

COLUMNS = ("a", "b", "c")


def _read(body: str):
    return read_csv_table("a,b,c\n" + body, file_name="t.csv", columns_for=lambda _h: COLUMNS)


def _by_definition(body: str):
    """(good records with their first line, lines of records with the wrong field count)."""
    reader = csv.reader(io.StringIO("a,b,c\n" + body, newline=""))
    next(reader)
    start = reader.line_num + 1
    good, bad = [], []
    for fields in reader:
        blank = not fields or (len(fields) == 1 and not fields[0].strip(" \t"))
        if not blank:
            (good if len(fields) == 3 else bad).append(
                (start, tuple(fields)) if len(fields) == 3 else start
            )
        start = reader.line_num + 1
    return good, bad


TOKENS = st.sampled_from(
    ["x", "yz", ",", ",", '"', '""', '"q"', '"a,b"', "\n", "\n", "\r\n", "\r", " ", "\t"]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(TOKENS, max_size=40).map("".join))
def test_records_and_lines_match_the_csv_module(body):
    table = _read(body)
    good, bad = _by_definition(body)
    assert list(table.frame.iter_rows()) == [(line, *fields) for line, fields in good]
    assert [problem.line for problem in table.problems] == bad
    assert table.rows == len(good) + len(bad)


def test_a_large_plain_file_keeps_exact_lines_across_pieces():
    rows = [f"{i},{i}x,{'' if i % 7 else 'q'}" for i in range(300_000)]
    rows[123_456] = ""  # a blank line
    rows[250_000] = "1,2"  # too few fields
    rows[250_001] = '"quoted, comma",b,c'
    table = _read("\n".join(rows) + "\n")
    assert table.rows == 299_999
    assert [(p.line, p.reason) for p in table.problems] == [
        (250_002, "has 2 fields but the header has 3")
    ]
    frame = table.frame
    assert frame.height == 299_998
    # rows[i] is on line i + 2; the blank line 123_458 is skipped
    assert frame.row(123_455) == (123_457, "123455", "123455x", "")
    assert frame.row(123_456) == (123_459, "123457", "123457x", "")
    assert frame.row(0) == (2, "0", "0x", "q")
    assert frame.filter(frame["line"] == 250_003).row(0) == (250_003, "quoted, comma", "b", "c")
    assert frame["line"].is_sorted()


def test_crlf_and_quoted_line_breaks():
    table = _read('1,2,3\r\n"multi\r\nline",b,c\r\n\r\n4,5,6\r\n')
    assert list(table.frame.iter_rows()) == [
        (2, "1", "2", "3"),
        (3, "multi\r\nline", "b", "c"),
        (6, "4", "5", "6"),
    ]


def test_a_quoted_line_break_late_in_a_large_file_keeps_progress_moving_forward():
    rows = [f"{i},{i}x,{i}y" for i in range(300_000)]
    rows[-1] = '"two\nlines",b,c'
    fractions: list[float] = []
    table = read_csv_table(
        "a,b,c\n" + "\n".join(rows) + "\n4,5,6\n",
        file_name="t.csv",
        columns_for=lambda _h: COLUMNS,
        progress=fractions.append,
    )
    assert table.frame.tail(2).rows() == [
        (300_001, "two\nlines", "b", "c"),
        (300_003, "4", "5", "6"),
    ]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
