"""Field rules shared by the forms, the services and the importers, so each rule lives once.
See docs/design.md#components."""

from __future__ import annotations

import math
import re
import unicodedata
from enum import StrEnum
from typing import TypeVar

from core.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

# A number as text, for one value and for a whole import column (core.imports): ASCII digits
# only ("3" is a number, "٣" is not), a dot for decimals, an optional exponent.
DECIMAL_PATTERN = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_DECIMAL = re.compile(DECIMAL_PATTERN)
NUMBER_REQUIRED = "a number is required"
NOT_A_NUMBER = "is not a number (use a dot for decimals, like 1.5)"
NOT_FINITE = "is not a finite number"


class FieldError(ValueError):
    """A single value breaks a rule; the message says which rule."""


# No grid quantity comes near this (the world's generation is ~1e7 MW), and sums of billions
# of such values (rollups, report totals) stay finite: PostgreSQL refuses a float8 sum that
# overflows, SQLite turns it into inf.
MAX_MAGNITUDE = 1e15
OUT_OF_RANGE = (
    f"is out of range: GridBoard stores numbers from {-MAX_MAGNITUDE:g} to {MAX_MAGNITUDE:g}"
)
SHOWN_CHARS = 40


def shown(value: object) -> str:
    """``value`` for a message: quoted, at most ``SHOWN_CHARS`` characters of it (an int of
    thousands of digits cannot even be turned into text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return "a whole number too large to store"
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"'{value[: SHOWN_CHARS - 3]}...'"
    return repr(value)


def parse_number(value: object) -> float:
    """A finite float from a number or decimal text (``1.5``, ``-2e3``); anything else fails.

    Refused: empty, ``nan``, ``inf``, ``1,5``, ``1_000``, booleans, magnitudes beyond
    ``MAX_MAGNITUDE``.
    """
    if isinstance(value, bool) or value is None:
        raise FieldError(NUMBER_REQUIRED)
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise FieldError(f"{shown(value)} {OUT_OF_RANGE}") from None
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise FieldError(NUMBER_REQUIRED)
        if not _DECIMAL.fullmatch(text):
            raise FieldError(f"{shown(value)} {NOT_A_NUMBER}")
        number = float(text)
    else:
        raise FieldError(f"{shown(value)} is not a number")
    if not math.isfinite(number):
        raise FieldError(f"{shown(value)} {NOT_FINITE}")
    if abs(number) > MAX_MAGNITUDE:
        raise FieldError(f"{shown(value)} {OUT_OF_RANGE}")
    return number


def parse_positive(value: object) -> float:
    number = parse_number(value)
    if number <= 0:
        raise FieldError(f"must be greater than 0, got {shown(value)}")
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


def choice_field(field: str, value: object, choices: type[E]) -> E:
    """``parse_choice`` for one named input: a refusal is ``InvalidInput`` naming ``field``."""
    try:
        return parse_choice(value, choices)
    except FieldError as error:
        raise InvalidInput.single(field, str(error)) from None


# Control characters (C0, DEL and C1), line and paragraph separators, and lone surrogates:
# none shows as text, a database cannot store NUL (PostgreSQL) or a lone surrogate (either).
_UNSTORABLE_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def _at(text: str, bad: str) -> str:
    """Where ``bad`` first stands in ``text``, as a refusal names it."""
    return f"character {text.index(bad) + 1} is U+{ord(bad):04X}"


def unstorable_character(text: str) -> str | None:
    """The first character of ``text`` that no name may hold, if any."""
    for char in text:
        if unicodedata.category(char) in _UNSTORABLE_CATEGORIES:
            return char
    return None


def parse_text(value: object, *, max_length: int = 200) -> str:
    """Non-empty trimmed text without control characters, stored exactly as returned."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError("must not be empty")
    text = value.strip()
    if len(text) > max_length:
        raise FieldError(f"must be at most {max_length} characters, got {len(text)}")
    bad = unstorable_character(text)
    if bad is not None:
        raise FieldError(
            f"must not contain control characters (tabs, line breaks, ...): {_at(text, bad)}"
        )
    return text


# Characters that show as nothing, or only reorder what is around them, yet make a name differ:
# format characters (Cf: zero-width space and joiners, word joiner, soft hyphen, byte-order mark,
# bidi marks, embeddings, overrides and isolates) and the other default-ignorable code points
# (combining grapheme joiner, Hangul fillers, variation selectors).
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
)
_BLANKS = re.compile(r"\s+")

# Greek and Cyrillic letters drawn like a Latin one, as UTS #39's confusables table maps them:
# two names that differ only by these look the same, so they compare equal (``name_key``).
_LOOK_ALIKES = str.maketrans(
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοικνρυχϲϳАВЕКМНОРСТУХЅІЈѴҮӀԁԛԜԝаеорсухѕіјһӏү",
    "ABEZHIKMNOPTYXoikvpuxcjABEKMHOPCTYXSIJVYIdqWwaeopcyxsijhly",
)


def invisible_character(text: str) -> str | None:
    """The first character of ``text`` that shows as nothing or reorders the text, if any."""
    for char in text:
        point = ord(char)
        if unicodedata.category(char) == "Cf" or any(
            low <= point <= high for low, high in _INVISIBLE_RANGES
        ):
            return char
    return None


def normal_name(text: str) -> str:
    """``text`` in the form names are stored in: NFKC-normalised, runs of blanks one space,
    trimmed (what a lookup by name compares with; ``parse_name`` also refuses)."""
    text = unicodedata.normalize("NFKC", text)
    return (_BLANKS.sub(" ", text) if unstorable_character(text) is None else text).strip()


def parse_name(value: object, *, max_length: int = 200) -> str:
    """A name as it is stored and compared: NFKC-normalised (full-width letters, ligatures and
    odd spaces become their plain form), runs of blanks one space, trimmed; refused when empty,
    too long, or holding a control or an invisible or bidi character."""
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value)
        bad = invisible_character(value)
        if bad is not None:
            raise FieldError(
                f"must not contain invisible or text-direction characters: {_at(value, bad)} "
                f"({unicodedata.name(bad, 'unnamed')}); type the name without it"
            )
        value = _BLANKS.sub(" ", value) if unstorable_character(value) is None else value
    return parse_text(value, max_length=max_length)


def name_key(name: str) -> str:
    """What two names are compared by for uniqueness: the name as ``parse_name`` stores it,
    invisible characters dropped (names stored before that rule may hold them), and Greek and
    Cyrillic look-alikes of Latin letters read as those letters, so T1 written with a Greek
    Tau is the name T1. Case still matters: ``t1`` and ``T1`` differ."""
    text = unicodedata.normalize("NFKC", name)
    visible = "".join(char for char in text if invisible_character(char) is None)
    return _BLANKS.sub(" ", visible).strip().translate(_LOOK_ALIKES)
