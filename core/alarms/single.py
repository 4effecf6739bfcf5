"""A single sample's quick look (the feed's post): most samples are inside their limits on a
component with no active alarm and need no evaluation; the rest go through the one evaluation.
See docs/architecture.md#alarms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from core.alarms.engine import AlarmCounts, evaluate_measurements
from core.alarms.limits import REVISION, conditions
from core.models import Alarm, Component, Limit, LimitDefault

# What the quick look reads with the component's key, in the same query (no extra round trip):
# the fields its limits derive from, the limits' revision, and whether it has an active alarm.
_component = Component.__table__.c


def watch_columns(component_id: ColumnElement[int]) -> list[ColumnElement[Any]]:
    return [
        _component.capacity_mva,
        _component.rated_current_a,
        select(LimitDefault.value)
        .where(LimitDefault.name == REVISION)
        .scalar_subquery()
        .label("limits_revision"),
        # active is uncleared (a clear sets cleared_at_us); a plain test for a compiled statement
        exists()
        .where(Alarm.component_id == component_id, Alarm.cleared_at_us.is_(None))
        .label("in_alarm"),
        # a deleted component's overrides go without a change of revision; its id may return
        select(func.count())
        .where(Limit.component_id == component_id)
        .scalar_subquery()
        .label("own_limits"),
    ]


class Watched(NamedTuple):
    """A component's row as the quick look reads it (``watch_columns`` after type and level)."""

    component_type: str
    voltage_kv: float | None
    capacity_mva: float | None
    rated_current_a: float | None
    limits_revision: float | None
    in_alarm: bool
    own_limits: int


# Effective limits per component, kept while the fields they derive from and the limits'
# revision (changed by every limit change) stay the same. Bounded: cleared when full.
_CACHE: dict[int, tuple[Watched, pl.DataFrame, list[tuple[str, int, bool, float]]]] = {}
_CACHE_SIZE = 10_000


def _limits(
    session: Session, component_id: int, watched: Watched
) -> tuple[pl.DataFrame, list[tuple[str, int, bool, float]]]:
    key = watched._replace(in_alarm=False)
    found = _CACHE.get(component_id)
    if found is not None and found[0] == key:
        return found[1], found[2]
    frame = conditions(session, [component_id])
    rows = [
        (kind, direction, absolute, limit)
        for kind, direction, absolute, limit in frame.select(
            "measurement_type", "direction", "absolute", "limit"
        ).iter_rows()
    ]
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[component_id] = (key, frame, rows)
    return frame, rows


def _outside(rows: Sequence[tuple[str, int, bool, float]], kind: str, value: float) -> bool:
    """Whether ``value`` is beyond any limit of ``kind`` (the rule of evaluation.excess)."""
    return any(
        direction * ((abs(value) if absolute else value) - limit) > 0
        for measured, direction, absolute, limit in rows
        if measured == kind
    )


def evaluate_sample(
    session: Session,
    watched: Watched,
    *,
    component_id: int,
    measurement_type: str,
    timestamp_us: int,
    value: float,
) -> AlarmCounts:
    """``evaluate_measurements`` of one stored sample, skipped when it can change nothing: no
    active alarm on its component (nothing to clear) and inside every limit (nothing to raise)."""
    frame, rows = _limits(session, component_id, watched)
    if not watched.in_alarm and not _outside(rows, measurement_type, value):
        return AlarmCounts()
    sample = pl.DataFrame(
        {
            "component_id": [component_id],
            "measurement_type": [measurement_type],
            "timestamp_us": [timestamp_us],
            "value": [value],
        }
    )
    return evaluate_measurements(session, sample, limits=frame)
