"""Files no import can read get one clear message, whichever import is asked, and change nothing."""

from __future__ import annotations

import pytest

from core.import_errors import ImportRejection, UnreadableFile
from tests.imports.support import (
    COMPONENTS_HEADER,
    MEASUREMENTS_HEADER,
    places,
    run_components,
    run_measurements,
    stored_components,
    stored_measurements,
)

ROW = "T1,Riverside,2024-05-01T11:45:00Z,voltage,1"


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf", "the file is empty"),
        (b"  \n\r\n\t\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file, not CSV text"),
        (f"{MEASUREMENTS_HEADER}\n{ROW}\n".encode("utf-16"), "is UTF-16 text"),
        (f"{MEASUREMENTS_HEADER}\n{ROW}\n".encode("utf-16-le"), "is UTF-16 text"),
        (f"{MEASUREMENTS_HEADER}\n{ROW}\n".encode("utf-16-be"), "is UTF-16 text"),
        (b"PK\x03\x04\x14\x00\x06\x00", "is an Excel workbook"),
        (
            _utf8(f"{MEASUREMENTS_HEADER}\n{ROW}\n").replace(b"T1", "Tö".encode("latin-1")),
            "is not UTF-8 text (line 2 holds the byte 0xF6",
        ),
    ],
)
@pytest.mark.parametrize("run", [run_components, run_measurements])
def test_unreadable_content_gets_one_message(db, run, data, reason):
    with pytest.raises(UnreadableFile) as caught:
        run(db, data, file_name="upload.csv")
    assert caught.value.name == "upload.csv"
    assert reason in str(caught.value)
    assert str(caught.value).startswith("upload.csv: ")
    assert stored_components(db) == {} and stored_measurements(db) == []


@pytest.mark.parametrize(
    ("separator", "named"),
    [(";", "';'"), ("\t", "tabs"), ("|", "'|'")],
)
def test_another_separator_is_named(db, separator, named):
    text = COMPONENTS_HEADER.replace(",", separator) + "\nT1;Riverside;transformer;40;110;;\n"
    with pytest.raises(UnreadableFile) as caught:
        run_components(db, text.encode())
    assert f"looks like it is separated by {named}, GridBoard expects commas" in str(caught.value)


def test_a_semicolon_file_with_decimal_commas_is_named(db):
    text = MEASUREMENTS_HEADER.replace(",", ";") + "\nT1;Riverside;2024-05-01;voltage;1,5\n"
    with pytest.raises(UnreadableFile, match="separated by ';'"):
        run_measurements(db, text.encode())


def test_a_single_column_file_is_not_csv(db):
    with pytest.raises(UnreadableFile, match="has a single column"):
        run_measurements(db, b"Dear grid operator\n")
    with pytest.raises(UnreadableFile, match="has a single column"):
        run_components(db, b"hello\nworld\n")


def test_a_file_without_its_header_row_is_named(db, grid):
    with pytest.raises(UnreadableFile) as caught:
        run_measurements(db, f"{ROW}\n{ROW}\n".encode())
    assert "has no header row GridBoard knows: its first line should name the columns " + (
        MEASUREMENTS_HEADER
    ) in str(caught.value)


def test_a_missing_path_is_unreadable(db, tmp_path):
    with pytest.raises(UnreadableFile, match="cannot be read"):
        run_components(db, tmp_path / "gone.csv", file_name="gone.csv")


def test_a_path_is_read_like_an_upload(db, grid, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(f"{MEASUREMENTS_HEADER}\n{ROW}\n", encoding="utf-8")
    assert run_measurements(db, path, file_name=path.name).inserted == 1


def test_an_unclosed_quote_is_named_where_it_opens(db, grid):
    data = f'{MEASUREMENTS_HEADER}\n{ROW}\n"T1,Riverside,2024-05-01,voltage,2\n{ROW}\n'.encode()
    with pytest.raises(ImportRejection) as caught:
        run_measurements(db, data)
    assert places(caught.value) == [(3, "")]
    assert "runs from here to line 4: is a closing quote missing?" in str(caught.value)
    assert stored_measurements(db) == []


def test_an_unclosed_quote_in_a_large_file_is_unreadable(db, grid):
    rows = "\n".join([ROW] * 5_000)
    data = f'{MEASUREMENTS_HEADER}\n{ROW}\n"T1,Riverside\n{rows}\n'.encode()
    with pytest.raises(UnreadableFile) as caught:
        run_measurements(db, data)
    assert "the CSV record that starts on line 3 cannot be read" in str(caught.value)
    assert "closing quote" in str(caught.value)
