"""Timestamps: ISO 8601 text in, integer microseconds since the epoch (UTC) stored, aware out.

Input with an offset is converted to UTC; input without one is taken as UTC (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


class BadTimestamp(ValueError):
    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"{text!r} is not an ISO 8601 timestamp (like 2024-05-01T13:45:00+02:00)")


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_micros(moment: datetime) -> int:
    return (to_utc(moment) - EPOCH) // _ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def parse_timestamp(text: str) -> datetime:
    """Parse one ISO 8601 timestamp into an aware UTC datetime, or raise ``BadTimestamp``."""
    cleaned = text.strip()
    if not cleaned or not cleaned[0].isdigit():
        raise BadTimestamp(text)
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise BadTimestamp(text) from None
    return to_utc(parsed)


def parse_micros_many(texts: Iterable[str | None]) -> list[int | None]:
    """Parse many timestamps to microseconds; a bad or empty one becomes ``None``."""
    out: list[int | None] = []
    append = out.append
    fromisoformat = datetime.fromisoformat
    for text in texts:
        if not text or not text.strip()[:1].isdigit():
            append(None)
            continue
        try:
            parsed = fromisoformat(text.strip())
        except ValueError:
            append(None)
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        append((parsed - EPOCH) // _ONE_MICROSECOND)
    return out


def format_micros(micros: int) -> str:
    return from_micros(micros).isoformat()
