"""A JSON array of objects as the CSV text the importers read, so JSON bodies take the same
import path as CSV files. See docs/architecture.md#imports."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from core.errors import ImportRejection, RowProblem, UnreadableFile


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and math.isfinite(value):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)  # an object or a list: refused by the checks


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def json_array_csv(data: bytes, file_name: str, *, columns: Sequence[str] = ()) -> bytes:
    """``data`` (a JSON array of objects) as CSV: the header holds ``columns``, then every
    other key in the order first seen; a missing key or ``null`` is an empty cell. Item N
    of the array (from 1) is line N + 1 of the CSV, as if the file had a header line, so
    problems name the item by that line. ``UnreadableFile`` for something that is not such
    an array; ``ImportRejection`` for items that are not objects or hold line breaks."""
    if not data.strip():
        raise UnreadableFile(file_name, "the file is empty")
    try:
        items = json.loads(data)
    except UnicodeDecodeError:
        raise UnreadableFile(file_name, "is not UTF-8 JSON text") from None
    except json.JSONDecodeError as error:
        raise UnreadableFile(
            file_name, f"is not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(items, list):
        raise UnreadableFile(file_name, "must be a JSON array of objects, one per row")
    if not items:
        raise UnreadableFile(file_name, "the array is empty")
    problems: list[RowProblem] = []
    keys: dict[str, None] = dict.fromkeys(columns)
    for number, item in enumerate(items, start=2):
        if not isinstance(item, dict):
            problems.append(RowProblem(number, "", f"is {type(item).__name__}, not an object"))
            continue
        keys.update(dict.fromkeys(item))
        for key, value in item.items():
            if isinstance(value, str) and ("\n" in value or "\r" in value):
                problems.append(RowProblem(number, key, "must not contain line breaks"))
    if problems:
        raise ImportRejection(problems)
    header = list(keys)
    lines = [",".join(_quoted(key) for key in header)]
    lines.extend(",".join(_quoted(_cell(item.get(key))) for key in header) for item in items)
    return ("\n".join(lines) + "\n").encode("utf-8")
