"""The alarms list as a table: states, kinds and values in words, times on the reader's wall
clock, how long a cleared alarm lasted. See docs/design.md#the-alarms-page."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from core.alarms.records import AlarmKind, AlarmRecord
from core.alarms.states import AlarmState
from core.units import format_duration
from views import alarm_words

STATE_NAMES = {
    AlarmState.ACTIVE_UNACKNOWLEDGED: "Active, unacknowledged",
    AlarmState.ACTIVE_ACKNOWLEDGED: "Active, acknowledged",
    AlarmState.CLEARED_UNACKNOWLEDGED: "Cleared, unacknowledged",
    AlarmState.CLOSED: "Closed",
}


def kind_name(kind: AlarmKind) -> str:
    """``high_alarm`` -> ``High alarm``."""
    return kind.value.replace("_", " ").capitalize()


def _wall_clock(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S}"


def lasted(alarm: AlarmRecord) -> str:
    """How long a cleared alarm lasted, in words (``1.5 hours``); empty while it is active."""
    if alarm.cleared_at is None:
        return ""
    return format_duration((alarm.cleared_at - alarm.raised_at).total_seconds())


def alarm_table(
    alarms: Sequence[AlarmRecord],
    *,
    time_zone: str,
    history: bool = False,
    shelved: bool = False,
    now: datetime,
) -> pl.DataFrame:
    """One row per alarm in the list's order; times in ``time_zone``; the history says how
    long each lasted, and a list with shelved alarms says until when and why."""
    zone = ZoneInfo(time_zone)
    columns: dict[str, list[str]] = {
        "Alarm": [f"#{a.id}" for a in alarms],
        "State": [STATE_NAMES[a.state] for a in alarms],
        "Severity": [a.severity.capitalize() for a in alarms],
        "Kind": [kind_name(a.kind) for a in alarms],
        "Component": [a.component_name for a in alarms],
        "Substation": [a.substation for a in alarms],
        "Type": [a.component_type.value.capitalize() for a in alarms],
        "Limit": [alarm_words.value(a, a.limit, blank="") for a in alarms],
        "Worst": [alarm_words.value(a, a.worst_value, blank="") for a in alarms],
        f"Raised ({time_zone})": [_wall_clock(a.raised_at, zone) for a in alarms],
        f"Cleared ({time_zone})": [_wall_clock(a.cleared_at, zone) for a in alarms],
    }
    if history:
        columns["Lasted"] = [lasted(a) for a in alarms]
    if shelved:
        hidden = [a.shelved_until is not None and a.shelved_until > now for a in alarms]
        columns[f"Shelved until ({time_zone})"] = [
            _wall_clock(a.shelved_until, zone) if h else ""
            for a, h in zip(alarms, hidden, strict=True)
        ]
        columns["Shelved because"] = [
            (a.shelve_reason or "") if h else "" for a, h in zip(alarms, hidden, strict=True)
        ]
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def table_key(alarms: Sequence[AlarmRecord], generation: int) -> str:
    """The table's widget key, naming the alarms it shows: a list that changed under a
    selection (a refresh brought a new alarm) starts unselected, so an action never lands on
    another alarm than the one seen. ``generation`` counts the actions taken on the page."""
    shown = zlib.crc32(",".join(str(alarm.id) for alarm in alarms).encode())
    return f"alarms.table.{generation}.{shown:08x}"
