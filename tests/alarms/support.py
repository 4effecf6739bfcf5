"""Helpers for the alarm tests: post samples as a feed would, and read alarms back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.alarms.records import AlarmRecord, list_alarms
from core.alarms.states import AlarmState
from core.db import Database
from core.measurements.measurements import add_measurement
from tests.factories import MANAGER

T0 = datetime(2024, 3, 1, tzinfo=UTC)
EVERY_STATE = tuple(AlarmState)


def post(db: Database, component_id: int, kind: str, values: list[float], **start: Any) -> None:
    """One sample a minute from ``T0``, each in its own transaction, as a feed posts them."""
    first = start.get("at", T0)
    for index, value in enumerate(values):
        with db.write() as session:
            add_measurement(
                session=session, actor=MANAGER, component_id=component_id,
                measurement_type=kind, timestamp=first + timedelta(minutes=index), value=value,
            )  # fmt: skip


def alarms(db: Database, **filters: Any) -> list[AlarmRecord]:
    with db.read() as session:
        return list_alarms(session=session, states=EVERY_STATE, limit=1000, **filters).alarms


def kinds(db: Database) -> dict[str, tuple[str, float | None, str]]:
    """kind -> (state, limit, measurement type) of every alarm."""
    return {
        a.kind.value: (
            a.state.value,
            a.limit,
            a.measurement_type.value if a.measurement_type else "",
        )
        for a in alarms(db)
    }
