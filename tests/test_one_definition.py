"""Rules defined once stay defined once: lengths of time and a moment's microseconds only in
core/timestamps.py, byte units only in core/units.py, a refused choice only in core/validation.py,
an import's write session only in core/imports, the quarter-hour floor only in
core/measurements/rollups.py, and SQL without a switch on the driver's placeholder."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "app.py",
    *sorted(
        path
        for folder in ("core", "api", "views", "pages")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts  # a migration keeps the numbers of its day
    ),
]
# Seconds per hour and day, microseconds per minute, hour and day, written as numbers.
TIME_NUMBERS = {3_600, 86_400, 60_000_000, 3_600_000_000, 86_400_000_000}
# A minute or a second in microseconds made again: ``60 * SECOND_US``, ``_SECOND_US = 1_000_000``,
# ``total_microseconds() / 1e6``.
TIME_ARITHMETIC = re.compile(
    r"\b60\s*\*\s*\w*SECOND|\bSECOND\w*\s*\*\s*60\b|/\s*60\s*/\s*\w*SECOND"
    r"|\b\w*_US\s*=\s*1_?000_?000\b|/\s*1e6\b"
)
Z_SUFFIX = re.compile(r"""replace\(\s*(["'])\+00:00\1\s*,\s*(["'])Z\2""")
BYTE_UNITS = re.compile(r"\b[kKMGT]i?B\b")
BUCKET_FLOOR = re.compile(r"%\s*(\w+\.)*BUCKET_US\b")  # ``t - t % BUCKET_US`` and kin
# ``"%s" if postgres else "?"``: SQL written for one driver's placeholders, not compiled
PLACEHOLDER_SWITCH = re.compile(r"""(["'])%s\1\s+if\b|\belse\s+(["'])\?\2""")


def _tokens(path: Path) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))


def _number(text: str) -> int | None:
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        return None


def _time_literals(path: Path) -> list[str]:
    found = [
        f"line {token.start[0]}: {token.string}"
        for token in _tokens(path)
        if token.type == tokenize.NUMBER and _number(token.string) in TIME_NUMBERS
    ]
    lines = path.read_text(encoding="utf-8").splitlines()
    found += [
        f"line {n}: {line.strip()}"
        for n, line in enumerate(lines, 1)
        if TIME_ARITHMETIC.search(line)
    ]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func).endswith("timedelta")
            and "microseconds=1" in ast.unparse(node)
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def _elsewhere(owner: str, found_in: Callable[[Path], list[str]]) -> dict[str, list[str]]:
    """What ``found_in`` finds in every source but ``owner``, by file."""
    return {
        str(path.relative_to(ROOT)): found
        for path in SOURCES
        if path != ROOT / owner and (found := found_in(path))
    }


def test_lengths_of_time_are_written_only_in_core_timestamps():
    found = _elsewhere("core/timestamps.py", _time_literals)
    assert found == {}, "use core.timestamps' DAY_US, HOUR_SECONDS, ONE_MICROSECOND..."


def _byte_strings(path: Path) -> list[str]:
    """Formatted texts that end in a byte unit (``f"{size:.1f} KiB"``), sentences aside."""
    return [
        token.string
        for token in _tokens(path)
        if token.type == tokenize.STRING
        and "{" in token.string
        and BYTE_UNITS.search(token.string.rsplit("}", 1)[-1])
    ]


def test_byte_sizes_are_formatted_only_by_core_units():
    found = _elsewhere("core/units.py", _byte_strings)
    assert found == {}, "format sizes with core.units.format_bytes"


def _matching(pattern: re.Pattern[str]) -> Callable[[Path], list[str]]:
    def found_in(path: Path) -> list[str]:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [
            f"line {n}: {line.strip()}" for n, line in enumerate(lines, 1) if pattern.search(line)
        ]

    return found_in


def test_the_quarter_hour_floor_is_written_only_in_core_rollups():
    found = _elsewhere("core/measurements/rollups.py", _matching(BUCKET_FLOOR))
    assert found == {}, "use core.measurements.rollups' floor_bucket / ceil_bucket / sql_bucket"


def test_a_moment_is_written_with_z_only_in_core_timestamps():
    """Webhook payloads, log lines and messages write a UTC moment as ``...Z`` alike."""
    found = _elsewhere("core/timestamps.py", _matching(Z_SUFFIX))
    assert found == {}, "use core.timestamps.iso_z"


def test_write_path_sql_is_compiled_not_written_per_driver():
    found = _elsewhere("", _matching(PLACEHOLDER_SWITCH))
    assert found == {}, "build the statement with SQLAlchemy Core: core.driver_statements"


def test_the_checks_catch_a_second_definition(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'DAY = 86_400\nSTEP = timedelta(microseconds=1)\nTEXT = f"{size:.1f} KiB"\n'
        "_SECOND_US = 1_000_000\nSPAN = minutes * 60 * SECOND_US\nS = us / 1e6\n",
        encoding="utf-8",
    )
    assert len(_time_literals(sample)) == 5
    assert _byte_strings(sample) == ['f"{size:.1f} KiB"']
    sample.write_text(
        'mark = "%s" if postgres else "?"\nbucket = t - t % rollups.BUCKET_US\n', encoding="utf-8"
    )
    assert _matching(PLACEHOLDER_SWITCH)(sample) == ['line 1: mark = "%s" if postgres else "?"']
    assert _matching(BUCKET_FLOOR)(sample) == ["line 2: bucket = t - t % rollups.BUCKET_US"]
    sample.write_text('text = moment.isoformat().replace("+00:00", "Z")\n', encoding="utf-8")
    assert len(_matching(Z_SUFFIX)(sample)) == 1


def _calls(path: Path, names: set[str]) -> list[str]:
    """Calls of the functions ``names`` (by their last dotted part) in ``path``."""
    return [
        f"line {node.lineno}: {ast.unparse(node.func)}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in names
    ]


def test_an_import_runs_in_its_write_session_only_in_core_imports():
    """The API (both routes and the child process), the CLI and the dashboard call
    ``core.imports.run_import``; none opens a write session around an importer of its own."""
    importers = {"import_components", "import_measurements"}
    found = {
        where: calls
        for where, calls in _elsewhere(
            "core/imports/service.py", partial(_calls, names=importers)
        ).items()
        if not where.startswith("core/imports/")
    }
    assert found == {}, "import a file with core.imports.run_import"


def _choice_refusals(path: Path) -> list[str]:
    """``try: parse_choice(...)`` blocks whose ``except FieldError`` only raises ``InvalidInput``
    (a check that gathers every field's problems first is another rule)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Try)
            and "parse_choice(" in ast.unparse(node.body)
            and any(
                len(handler.body) == 1
                and ast.unparse(handler.body[0]).startswith("raise InvalidInput")
                for handler in node.handlers
            )
        ):
            found.append(f"line {node.lineno}")
    return found


def test_a_choice_refused_as_an_input_is_written_only_in_core_validation():
    found = _elsewhere("core/validation.py", _choice_refusals)
    assert found == {}, "use core.validation.choice_field(field, value, choices)"


def _micros_of_moments(path: Path) -> list[str]:
    """Functions that turn a datetime or a text into microseconds by type."""
    return [
        f"line {node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.If)
        and "isinstance(" in ast.unparse(node.test)
        and ", datetime)" in ast.unparse(node.test)
        and "micros(" in ast.unparse(node)
    ]


def test_a_moment_becomes_microseconds_only_in_core_timestamps():
    found = _elsewhere("core/timestamps.py", _micros_of_moments)
    assert found == {}, "use core.timestamps.micros_of"


def test_the_api_s_shared_answers_are_worded_once():
    """What the OpenAPI document says of a missing token, a user's write and a broken rule."""
    for sentence in (
        "no token, or one that is not honoured",
        "only a manager may do that",
        "a field breaks a rule; every problem is listed",
    ):
        found = [
            str(path.relative_to(ROOT))
            for path in SOURCES
            if "api" in path.relative_to(ROOT).parts
            for _ in range(path.read_text(encoding="utf-8").count(sentence))
        ]
        assert found == ["api/errors.py"], sentence
