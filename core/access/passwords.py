"""The password policy (its rules, and the text that explains them to people) and bcrypt
hashing. See docs/design.md#sign-in."""

from __future__ import annotations

import string

import bcrypt

from core.errors import FieldProblem, InvalidInput
from core.validation import unstorable_character

MIN_PASSWORD_LENGTH = 10
# bcrypt reads at most 72 bytes of a password (and refuses more): a longer one is refused
# where it is set rather than cut, and can never match at sign-in.
MAX_PASSWORD_BYTES = 72
_TOO_LONG = (
    f"must be at most {MAX_PASSWORD_BYTES} bytes long (bcrypt's limit; an accented letter "
    "takes 2 bytes, some other characters 3 or 4)"
)
# A valid hash to compare against when the user is unknown, so both refusals take as long.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=12))


# Passwords people pick first, and keyboard rows: refused even with digits and symbols added
# ("Password123!" is "password"). Kept short on purpose; length does the rest.
COMMON_PASSWORDS = frozenset((
    "password", "passwort", "passw", "pass", "word", "secret", "letmein", "welcome",
    "iloveyou", "admin", "administrator", "root", "login", "changeme", "default", "master",
    "trustno", "monkey", "dragon", "football", "baseball", "soccer", "sunshine", "princess",
    "superman", "batman", "shadow", "michael", "qwerty", "qwertz", "azerty", "qwert",
    "qwertyuiop", "asdf", "asdfgh", "asdfghjkl", "zxcv", "zxcvbn", "zxcvbnm", "qaz",
    "qazwsx", "qazwsxedc", "zaq", "zaqxsw", "wsx", "edc", "abc", "abcd", "abcde", "abcdef",
    "abcdefg", "abcdefgh", "test", "tester", "user", "guest", "gridboard", "grid",
    "streamlit", "summer", "winter", "spring", "autumn", "hello", "dummy",
))  # fmt: skip


_LOOKALIKES = str.maketrans("0@4$5317!", "oaassetli")


def _common_core(password: str) -> str | None:
    """The common password ``password`` is made of, if any: its letters alone
    ("1q2w3e4r5t" is "qwert"), or its middle with look-alike digits read as letters
    ("P@ssw0rd-2024" is "password")."""
    lowered = password.lower()
    letters = "".join(filter(str.isalpha, lowered))
    middle = lowered.strip(string.digits + string.punctuation + " ").translate(_LOOKALIKES)
    for core in (letters, "".join(filter(str.isalpha, middle))):
        if core in COMMON_PASSWORDS:
            return core
    return None


def check_password_strength(password: str, *, username: str = "") -> None:
    """At least ten characters, not all of one kind (letters, digits), not the username or
    something containing it, and not a common password with digits or symbols added.

    Why these: length is what makes a password hard to guess (NIST SP 800-63B); the other
    rules refuse the passwords tried first. A sign-in is also throttled and locked
    (``core.access.auth``), so guessing a long, uncommon password online is hopeless.
    """
    problems = []
    name = username.strip().lower()
    common = _common_core(password)
    if password != password.strip():
        # The sign-in form trims what is typed, so such a password could never be used.
        problems.append("must not start or end with a space")
    elif len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    elif len(_password_bytes(password)) > MAX_PASSWORD_BYTES:
        problems.append(_TOO_LONG)
    elif unstorable_character(password) is not None:
        problems.append("must not contain control characters (tabs, line breaks, ...)")
    elif password.isalpha() or password.isdigit():
        problems.append("must mix letters with digits or symbols")
    elif len(set(password)) < 4:
        problems.append("must not repeat the same few characters")
    elif name and (password.lower() == name or (len(name) >= 3 and name in password.lower())):
        problems.append("must not be or contain the username")
    elif common is not None:
        problems.append(f"is a common password ({common!r} with digits or symbols added)")
    if problems:
        raise InvalidInput([FieldProblem("password", "; ".join(problems))])


def _password_bytes(password: str) -> bytes:
    """What bcrypt is given: UTF-8, where a lone surrogate (which no set password holds, and
    a browser can send) is kept as bytes instead of failing."""
    return password.encode("utf-8", "surrogatepass")


def checkable(password: str) -> bytes | None:
    """``password`` as bcrypt checks it, or ``None`` when it is too long to be anyone's."""
    encoded = _password_bytes(password)
    return encoded if len(encoded) <= MAX_PASSWORD_BYTES else None


def spend_password_check_time(password: str) -> None:
    """Take as long as checking ``password`` against a stored hash, and learn nothing."""
    bcrypt.checkpw(_password_bytes(password)[:MAX_PASSWORD_BYTES], _DUMMY_HASH)


def hash_password(password: str) -> str:
    """The bcrypt hash of a password that ``check_password_strength`` accepted."""
    encoded = checkable(password)
    if encoded is None:
        raise InvalidInput.single("password", _TOO_LONG)
    return bcrypt.hashpw(encoded, bcrypt.gensalt()).decode("ascii")


def password_rules() -> str:
    """What ``check_password_strength`` asks for, as the forms explain it."""
    return (
        f"At least {MIN_PASSWORD_LENGTH} characters (at most {MAX_PASSWORD_BYTES} bytes), mixing "
        "letters with digits or symbols; not containing the username; not a common password "
        "(such as Password123!)."
    )
