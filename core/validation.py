"""Field rules shared by the forms, the services and the importers, so each rule lives once."""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class FieldError(ValueError):
    """A single value breaks a rule; the message says which rule."""


def parse_number(value: object) -> float:
    """A finite float from a number or decimal text (``1.5``, ``-2e3``); anything else fails.

    Refused: empty, ``nan``, ``inf``, ``1,5``, ``1_000``, booleans, out-of-range magnitudes.
    """
    if isinstance(value, bool) or value is None:
        raise FieldError("a number is required")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise FieldError("a number is required")
        if not _DECIMAL.fullmatch(text):
            raise FieldError(f"{value!r} is not a number (use a dot for decimals, like 1.5)")
        number = float(text)
    else:
        raise FieldError(f"{value!r} is not a number")
    if not math.isfinite(number):
        raise FieldError(f"{value!r} is not a finite number")
    return number


def parse_positive(value: object) -> float:
    number = parse_number(value)
    if number <= 0:
        raise FieldError(f"must be greater than 0, got {value!r}")
    return number


def parse_choice(value: object, choices: type[E]) -> E:
    """An enumeration member from text, case-insensitively and ignoring surrounding blanks."""
    allowed = ", ".join(member.value for member in choices)
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"is required (one of {allowed})")
    try:
        return choices(value.strip().lower())
    except ValueError:
        raise FieldError(f"{value.strip()!r} is not one of {allowed}") from None


def parse_text(value: object, *, max_length: int = 200) -> str:
    """Non-empty trimmed text without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError("must not be empty")
    text = value.strip()
    if len(text) > max_length:
        raise FieldError(f"must be at most {max_length} characters, got {len(text)}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise FieldError("must not contain control characters (tabs, line breaks, ...)")
    return text
