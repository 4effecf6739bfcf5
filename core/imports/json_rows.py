"""A JSON array of objects as the CSV file the importers read, read one item at a time, so JSON
bodies take the same import path as CSV files in memory bounded by one item. See
docs/architecture.md#imports."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from core.import_errors import ImportRejection, RowProblem, RowProblems, UnreadableFile
from core.imports.table import check_width

# One item is one row of a few short cells; an item longer than this is not a row.
MAX_ITEM_CHARS = 1 << 20
_READ_CHARS = 1 << 20
_BLANK = re.compile(r"[ \t\n\r]*")
_KINDS = {
    str: "a string", bool: "true or false", type(None): "null", list: "an array", dict: "an object"
}  # fmt: skip
# Numbers keep the text they were written with: no float rounding, no 5,000-digit integer
# to convert (Python refuses past 4,300 digits); the value checks judge the text.
_PLAIN = "a cell is text, a number, true, false or null"


class _Number(str):
    """A JSON number's text, told apart from a JSON string."""


_DECODER = json.JSONDecoder(parse_int=_Number, parse_float=_Number, parse_constant=_Number)


def _kind(value: object) -> str:
    return _KINDS.get(type(value), "a number")


class _Window:
    """The text of a file from ``pos`` on, read ahead at least two items' length (unless the
    file ends first), with the line and column of ``text[0]`` kept for messages."""

    def __init__(self, handle: IO[str], file_name: str) -> None:
        self.handle = handle
        self.file_name = file_name
        self.text = ""
        self.pos = 0
        self.ended = False
        self.line, self.column = 1, 1

    def fill(self) -> None:
        while not self.ended and len(self.text) - self.pos < 2 * MAX_ITEM_CHARS:
            dropped = self.text[: self.pos]
            breaks = dropped.count("\n")
            self.line += breaks
            self.column = self.pos - dropped.rfind("\n") if breaks else self.column + self.pos
            chunk = self.handle.read(_READ_CHARS)
            self.ended = not chunk
            self.text = self.text[self.pos :] + chunk
            self.pos = 0

    def skip_blanks(self) -> str:
        """The next character that is not JSON whitespace, ``""`` at the end."""
        while True:
            self.fill()
            match = _BLANK.match(self.text, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.text) or self.ended:
                return self.text[self.pos : self.pos + 1]

    def where(self, index: int) -> str:
        before = self.text[:index]
        breaks = before.count("\n")
        column = index - before.rfind("\n") if breaks else self.column + index
        return f"line {self.line + breaks}, column {column}"


def _not_json(window: _Window, reason: str, index: int) -> UnreadableFile:
    return UnreadableFile(window.file_name, f"is not JSON: {reason} at {window.where(index)}")


def _next_item(window: _Window, number: int) -> object:
    start = window.pos
    try:
        item, end = _DECODER.raw_decode(window.text, start)
    except json.JSONDecodeError as error:
        # Before the end of the file, a string left open or an error past the item limit means
        # an item longer than the window, not a broken one.
        if not window.ended and (
            error.msg.startswith("Unterminated string") or error.pos - start >= MAX_ITEM_CHARS
        ):
            raise _too_long(window, number, start) from None
        raise _not_json(window, error.msg, error.pos) from None
    except RecursionError:
        raise UnreadableFile(
            window.file_name,
            f"item {number} (at {window.where(start)}) nests arrays or objects too deeply; "
            "each item must be one object of plain values",
        ) from None
    if end - start > MAX_ITEM_CHARS:
        raise _too_long(window, number, start)
    window.pos = end
    return item


def _too_long(window: _Window, number: int, start: int) -> UnreadableFile:
    return UnreadableFile(
        window.file_name,
        f"item {number} (at {window.where(start)}) is longer than {MAX_ITEM_CHARS:,} "
        "characters; each item is one row of short values",
    )


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)  # a string, or a number's text as written


def _open_array(window: _Window) -> None:
    """Read past the array's opening bracket; refuse what is not a non-empty array."""
    first = window.skip_blanks()
    if not first:
        raise UnreadableFile(window.file_name, "the file is empty")
    if first != "[":
        if first in '{"-0123456789tfn':
            raise UnreadableFile(window.file_name, "must be a JSON array of objects, one per row")
        raise _not_json(window, "Expecting value", window.pos)
    window.pos += 1
    if window.skip_blanks() == "]":
        raise UnreadableFile(window.file_name, "the array is empty")


def _rows(window: _Window, out: IO[str], keys: dict[str, int], problems: RowProblems) -> int:
    """Each item as a CSV line of its cells by ``keys`` (new keys appended as they appear),
    written to ``out``; bad items into ``problems``. The number of items."""
    number = 0
    while True:
        number += 1
        item = _next_item(window, number)
        line = number + 1
        if not isinstance(item, dict):
            problems.add(RowProblem(line, "", f"is {_kind(item)}, not an object"))
        else:
            for key in item:
                keys.setdefault(key, len(keys))
            check_width(len(keys), window.file_name)
            cells = [""] * len(keys)
            for key, value in item.items():
                if isinstance(value, dict | list):
                    problems.add(RowProblem(line, key, f"is {_kind(value)}; {_PLAIN}"))
                elif isinstance(value, str) and ("\n" in value or "\r" in value):
                    problems.add(RowProblem(line, key, "must not contain line breaks"))
                elif value is not None:
                    cells[keys[key]] = _quoted(_cell(value))
            if not problems:  # the count first: the keys may grow after this row
                out.write(f"{len(cells)}:{','.join(cells)}\n")
        after = window.skip_blanks()
        if after == "]":
            window.pos += 1
            break
        if after != ",":
            raise _not_json(window, "Expecting ',' delimiter", window.pos)
        window.pos += 1
        window.skip_blanks()
    if window.skip_blanks():
        raise _not_json(window, "Extra data", window.pos)
    return number


def json_array_csv(
    source: Path, target: Path, file_name: str, *, columns: Sequence[str] = ()
) -> None:
    """Write ``source`` (a JSON array of objects) to ``target`` as CSV: the header holds
    ``columns``, then every other key in the order first seen; a missing key or ``null`` is an
    empty cell. Item N of the array (from 1) is line N + 1 of the CSV, as if the file had a
    header line, so problems name the item by that line. ``UnreadableFile`` for something
    that is not such an array (with the line and column where it stops being one);
    ``ImportRejection`` for items that are not objects of plain values or hold line breaks."""
    keys = {name: index for index, name in enumerate(dict.fromkeys(columns))}
    problems = RowProblems()
    body = target.with_name(target.name + ".rows")
    try:
        with (
            source.open(encoding="utf-8-sig", newline="") as handle,
            body.open("w", encoding="utf-8") as out,
        ):
            window = _Window(handle, file_name)
            _open_array(window)
            _rows(window, out, keys, problems)
    except UnicodeDecodeError:
        raise UnreadableFile(file_name, "is not UTF-8 JSON text") from None
    if problems:
        body.unlink()
        raise ImportRejection(problems)
    width = len(keys)
    with body.open(encoding="utf-8") as rows, target.open("w", encoding="utf-8") as out:
        out.write(",".join(_quoted(key) for key in keys) + "\n")
        for row in rows:  # as wide as the keys known when it was read: pad it to all of them
            count, cells = row[:-1].split(":", 1)
            padded = cells + "," * (width - int(count)) if int(count) else "," * (width - 1)
            out.write(padded + "\n")
    body.unlink()
