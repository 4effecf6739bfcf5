"""Hostile values for property tests: text no form expects, and numbers at the edges."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import strategies as st

# Text a person pastes by accident or on purpose: markup, formulas, right-to-left marks,
# zero-width characters, every kind of line break and control character, lone surrogates.
HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    "<b>bold</b> &amp; **stars** _under_ `code` [link](http://x)",
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\u202eevil\u202c",
    "\u200bzero\u200dwidth\ufeff",
    "שלום עולם",
    "Ελλάδα ΣΊΣΥΦΟΣ",
    "İstanbul",
    "ﬁeld straße",
    "😀" * 200,
    "a" * 200,
    "a" * 201,
    "x" * 10_000,
    "a\x00b",
    "a\tb",
    "a\nb",
    "a\rb",
    "a\x7fb",
    "a\x85b",
    "a\u2028b",
    "a\u2029b",
    "a\ud800b",
    "\udfff",
    "   ",
    "\u3000\u00a0",
    " padded ",
    "\ufffe\uffff",
    "%_\\",
    "'; DROP TABLE components; --",
]

_UNSHOWABLE = {"Cc", "Cs", "Zl", "Zp"}

texts = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.text(max_size=30),
    st.text(st.characters(categories=["Cc", "Cs", "Cf", "Zl", "Zp", "Zs", "Mn"]), max_size=8),
    st.text(min_size=195, max_size=205),
)


# Characters that show as nothing: format characters (zero-width, bidi controls, word joiner)
# and the default-ignorable letters and marks Unicode names here.
_INVISIBLE_NAMES = (
    "VARIATION SELECTOR",
    "MONGOLIAN FREE VARIATION SELECTOR",
    "HANGUL FILLER",
    "HALFWIDTH HANGUL FILLER",
    "HANGUL CHOSEONG FILLER",
    "HANGUL JUNGSEONG FILLER",
    "KHMER VOWEL INHERENT",
    "COMBINING GRAPHEME JOINER",
)


def _invisible(char: str) -> bool:
    return (
        unicodedata.category(char) == "Cf"
        or 0xE0000 <= ord(char) <= 0xE0FFF
        or unicodedata.name(char, "").startswith(_INVISIBLE_NAMES)
    )


def stored_name(value: str) -> str:
    """docs/design.md's names: NFKC-normalised, runs of blanks one space, trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def expected_text_problem(value: str) -> bool:
    """Whether docs/design.md's rules refuse ``value`` as a name: empty once normalised and
    trimmed, longer than 200 characters, holding a character that is not text (control,
    separator, surrogate) or one that shows as nothing or turns the text's direction."""
    text = unicodedata.normalize("NFKC", value).strip()
    return (
        not text
        or len(text) > 200
        or any(unicodedata.category(char) in _UNSHOWABLE for char in text)
        or any(_invisible(char) for char in text)
    )


numbers = st.one_of(
    st.sampled_from(
        [
            float("nan"),
            float("inf"),
            float("-inf"),
            -0.0,
            0.0,
            1e308,
            1.7976931348623157e308,
            5e-324,
            2.2250738585072014e-308,
            -1.0,
            10**400,
            10**5000,
            1e15,
            1e15 + 0.125,
            -1e15,
            "1000000000000000.1",
            -(10**400),
            2**63,
            2**64 + 1,
            True,
            "1e400",
            "1" * 400,
            "9" * 5000,
            "5e-324",
            "1e-400",
            "nan",
            "-0",
            "1,5",
            "1_000",
            " 2.5 ",
            "٣",
            "",
            None,
        ]
    ),
    st.floats(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats().map(repr),
)
