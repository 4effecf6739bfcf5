"""How the pages say an alarm: its kind, state, limit and worst value in words, one line per
alarm for a link, or a table of a component's alarms. See docs/design.md#where-alarms-show."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from core.alarms.records import AlarmRecord
from core.domain import MEASUREMENT_UNITS
from core.models import utc_now
from views import wording

SEVERITY_ICONS = {"alarm": ":material/error:", "warning": ":material/warning:"}


def kind(record: AlarmRecord) -> str:
    return record.kind.value.replace("_", " ")


def state(record: AlarmRecord, now: datetime | None = None) -> str:
    """``active unacknowledged``, with ``shelved until ...`` while it is shelved."""
    text = record.state.value.replace("_", " ")
    if record.shelved_until is not None and record.shelved_until > (now or utc_now()):
        text += f", shelved until {wording.when(record.shelved_until)}"
    return text


def value(record: AlarmRecord, number: float | None, *, blank: str = "-") -> str:
    """A limit or worst value of ``record`` with its unit: its measurement's, or minutes of
    silence for communication lost."""
    unit = MEASUREMENT_UNITS[record.measurement_type] if record.measurement_type else "min"
    return wording.number(None if number is None else round(number, 6), unit, blank=blank)


def line(record: AlarmRecord) -> str:
    """One alarm as a link's label: where, what, how far, since when, its state (Markdown)."""
    what = kind(record)
    if record.limit is not None:
        what += f", worst {value(record, record.worst_value)} (limit {value(record, record.limit)})"
    return (
        f"{wording.literal(record.component_name)} · {wording.literal(record.substation)}: "
        f"{what}, raised {wording.when(record.raised_at)} ({state(record)})"
    )


def alarm_table(records: list[AlarmRecord]) -> pl.DataFrame:
    """A component's alarms as the page lists them, in the order given."""
    return pl.DataFrame(
        {
            "Alarm": [f"#{r.id}" for r in records],
            "Severity": [r.severity for r in records],
            "State": [state(r) for r in records],
            "Kind": [kind(r) for r in records],
            "Measurement": [
                r.measurement_type.value if r.measurement_type else "" for r in records
            ],
            "Limit": [value(r, r.limit) for r in records],
            "Worst value": [value(r, r.worst_value) for r in records],
            "Raised": [r.raised_at for r in records],
            "Cleared": [r.cleared_at for r in records],
        },
        schema={
            **dict.fromkeys(
                ("Alarm", "Severity", "State", "Kind", "Measurement", "Limit", "Worst value"),
                pl.String,
            ),
            "Raised": pl.Datetime("us", "UTC"),
            "Cleared": pl.Datetime("us", "UTC"),
        },
    )
