"""Timestamps: ISO 8601 text in, integer microseconds since the epoch (UTC) stored, aware out;
and the lengths of time every module counts in. See docs/design.md#measurements and
docs/architecture.md#storage."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.engine import Dialect

from core.validation import shown

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Lengths of time, defined once: in seconds, and in microseconds (what is stored).
MINUTE_SECONDS = 60
HOUR_SECONDS = 60 * MINUTE_SECONDS
DAY_SECONDS = 24 * HOUR_SECONDS
SECOND_US = 1_000_000
MINUTE_US = MINUTE_SECONDS * SECOND_US
HOUR_US = HOUR_SECONDS * SECOND_US
DAY_US = DAY_SECONDS * SECOND_US
ONE_MICROSECOND = timedelta(microseconds=1)
EXAMPLE = "like 2024-05-01T13:45:00+02:00"

# datetime.fromisoformat reads these shapes but is laxer than ISO 8601 in ways that change the
# instant (any character between date and time, "13:45,5" as half a second, digits beyond the
# microsecond dropped): a text must first have one of these shapes.
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}|[0-9]{4}-W[0-9]{2}-[0-9]|[0-9]{4}W[0-9]{3}"
_TIME = (
    r"[0-9]{2}(?::[0-9]{2}(?::[0-9]{2}(?:[.,](?P<fraction>[0-9]+))?)?)?"
    r"|[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[.,](?P<basic_fraction>[0-9]+))?)?)?"
)
_ZONE = r"Z|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
_SHAPE = re.compile(rf"(?:{_DATE})(?:[Tt ](?:{_TIME}) ?(?:{_ZONE})?)?")

# The instants a ``datetime`` holds in UTC, as stored microseconds.
MIN_MICROS = (datetime.min.replace(tzinfo=UTC) - EPOCH) // ONE_MICROSECOND
MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_MICROSECOND


class BadTimestamp(ValueError):
    def __init__(self, text: str, reason: str = "") -> None:
        self.text = text
        self.reason = reason or f"is not an ISO 8601 timestamp ({EXAMPLE})"
        super().__init__(f"{shown(text)} {self.reason}")


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch; by subtraction, so no instant overflows on the way."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def iso_z(moment: datetime, timespec: str = "auto") -> str:
    """``moment`` as ISO 8601 with a UTC offset written ``Z`` (``2024-05-01T13:45:00Z``): the
    webhooks' payloads, the log lines, messages. Not ``strftime``, whose ``%Y`` drops the
    year 1's zeros."""
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def check_micros(micros: int, text: str) -> int:
    """``micros`` if a ``datetime`` can show it, else ``BadTimestamp`` naming ``text``."""
    if not MIN_MICROS <= micros <= MAX_MICROS:
        raise BadTimestamp(text, "is outside the years 1 to 9999 once converted to UTC")
    return micros


def parse_micros(text: str) -> int:
    """Microseconds since the epoch (UTC) of one ISO 8601 text, or ``BadTimestamp`` why not;
    a text without an offset is taken as UTC."""
    return check_micros(to_micros(parse_written(text)), text)


def parse_written(text: str) -> datetime:
    """One ISO 8601 text as written: aware when it has an offset, naive when it has none (a
    date alone is its midnight), or ``BadTimestamp`` why not. Whose midnight or wall clock a
    naive one means is for the caller to say (UTC for measurements, a report's zone for its
    period)."""
    cleaned = text.strip()
    shape = _SHAPE.fullmatch(cleaned)
    if shape is None:
        raise BadTimestamp(text)
    fraction = shape.group("fraction") or shape.group("basic_fraction") or ""
    if fraction[6:].strip("0"):
        raise BadTimestamp(
            text, f"is more precise than a microsecond, the finest GridBoard stores ({EXAMPLE})"
        )
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError as error:
        reason = str(error)
        if reason.startswith("Invalid isoformat"):
            raise BadTimestamp(text) from None
        if "offset" in reason:
            reason = "its offset from UTC must be less than 24 hours"
        raise BadTimestamp(text, f"is not an ISO 8601 timestamp ({reason})") from None
    return parsed


def micros_of(moment: object) -> int:
    """Microseconds since the epoch (UTC) of a ``datetime`` (naive taken as UTC) or of ISO 8601
    text, or ``BadTimestamp`` why not (another type, or outside what a ``datetime`` shows)."""
    if isinstance(moment, datetime):
        return check_micros(to_micros(moment), moment.isoformat())
    if isinstance(moment, str):
        return parse_micros(moment)
    raise BadTimestamp(repr(moment))


def parse_timestamp(text: str) -> datetime:
    """Parse one ISO 8601 timestamp into an aware UTC datetime, or raise ``BadTimestamp``."""
    return from_micros(parse_micros(text))


def parse_micros_many(texts: Iterable[str | None]) -> list[int | None]:
    """Parse many timestamps to microseconds; a bad or empty one becomes ``None``."""
    out: list[int | None] = []
    append = out.append
    for text in texts:
        try:
            append(parse_micros(text) if text else None)
        except BadTimestamp:
            append(None)
    return out


def timestamp_problem(text: str) -> str:
    """Why ``text`` is not a timestamp GridBoard stores (empty if it is one)."""
    try:
        parse_micros(text)
    except BadTimestamp as error:
        return error.reason
    return ""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores it naive; this restores tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime  # a TypeDecorator says "object" unless told

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
