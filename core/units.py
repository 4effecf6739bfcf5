"""How sizes and durations read to a person, the same on the command line and in the pages.
Sizes count in powers of 1000, as GRIDBOARD_IMPORT_MAX_MEGABYTES does: see
docs/reference.md#configuration."""

from __future__ import annotations

from core.counts import format_count
from core.timestamps import DAY_SECONDS, HOUR_SECONDS, MINUTE_SECONDS

_BYTE_UNITS = ("kB", "MB", "GB", "TB")


def format_bytes(count: int) -> str:
    """``1536`` -> ``1.54 kB``: three significant digits, a kB being 1,000 bytes."""
    if count < 1000:
        return format_count(count, "byte")
    size = float(count)
    for unit in _BYTE_UNITS:
        size /= 1000
        shown = f"{size:.3g}"
        if float(shown) < 1000:
            return f"{shown} {unit}"
    return f"{size:,.0f} {_BYTE_UNITS[-1]}"


def format_duration(seconds: float) -> str:
    """``90`` -> ``1.5 minutes``: a length of time as a person says it."""
    for unit, size in (("day", DAY_SECONDS), ("hour", HOUR_SECONDS), ("minute", MINUTE_SECONDS)):
        if seconds >= size:
            amount = seconds / size
            return f"{amount:.3g} {unit}{'s' * (amount != 1)}"
    return f"{seconds:.3g} seconds"
