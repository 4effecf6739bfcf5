"""Re-evaluating what a change of stored samples (replaced or deleted) touched: each series'
span, widened to the samples clear of every limit on either side, derived again and reconciled
with its stored alarms. See docs/design.md#limits-and-alarms."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.orm import Session

from core import logs
from core.alarms.engine import COMMUNICATION_LOST, ENGINE, AlarmCounts, raise_alarm
from core.alarms.evaluation import CARRIED_SCHEMA, SAMPLES_SCHEMA, derive_excursions
from core.alarms.limits import conditions
from core.alarms.states import ACTIVE, AlarmState, Event, transition
from core.models import Alarm, Measurement

# What a changed series is: its component and type, and the first and last instant changed.
SPANS_SCHEMA = pl.Schema(
    {
        "component_id": pl.Int64,
        "measurement_type": pl.String,
        "first_us": pl.Int64,
        "last_us": pl.Int64,
    }
)


def spans_of(frame: pl.DataFrame) -> pl.DataFrame:
    """The span of each series in ``frame`` (component_id, measurement_type, timestamp_us)."""
    return (
        frame.group_by("component_id", "measurement_type")
        .agg(
            pl.col("timestamp_us").min().alias("first_us"),
            pl.col("timestamp_us").max().alias("last_us"),
        )
        .sort("component_id", "measurement_type")
        .cast(SPANS_SCHEMA)
    )


def _clear(limits: pl.DataFrame) -> ColumnElement[bool]:
    """A sample back inside every threshold by its deadband: no alarm of the series is on
    there, whatever came before (``evaluation.signal`` is 0 for each kind)."""
    tests = []
    for direction, absolute, limit, deadband in limits.select(
        "direction", "absolute", "limit", "deadband"
    ).iter_rows():
        compared: Any = func.abs(Measurement.value) if absolute else Measurement.value
        tests.append(compared < limit - deadband if direction > 0 else compared > limit + deadband)
    return and_(*tests)


def _edge(
    session: Session, series: tuple[int, str], limits: pl.DataFrame, at_us: int, *, before: bool
) -> int | None:
    """The nearest clear sample strictly before (or after) ``at_us``; ``None`` if none."""
    component_id, kind = series
    query = select(Measurement.timestamp_us).where(
        Measurement.component_id == component_id,
        Measurement.measurement_type == kind,
        Measurement.timestamp_us < at_us if before else Measurement.timestamp_us > at_us,
        _clear(limits),
    )
    order = Measurement.timestamp_us.desc() if before else Measurement.timestamp_us
    return session.scalar(query.order_by(order).limit(1))


def _samples(
    session: Session, series: tuple[int, str], low: int | None, high: int | None
) -> pl.DataFrame:
    component_id, kind = series
    query = select(
        Measurement.component_id,
        Measurement.measurement_type,
        Measurement.timestamp_us,
        Measurement.value,
    ).where(Measurement.component_id == component_id, Measurement.measurement_type == kind)
    if low is not None:
        query = query.where(Measurement.timestamp_us >= low)
    if high is not None:
        query = query.where(Measurement.timestamp_us <= high)
    rows = session.execute(query.order_by(Measurement.timestamp_us)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=SAMPLES_SCHEMA, orient="row")


def _stored(
    session: Session, series: tuple[int, str], low: int | None, high: int | None
) -> list[Alarm]:
    component_id, kind = series
    query = select(Alarm).where(
        Alarm.component_id == component_id,
        Alarm.measurement_type == kind,
        Alarm.kind != COMMUNICATION_LOST,
    )
    if low is not None:
        query = query.where(Alarm.raised_at_us > low)
    if high is not None:
        query = query.where(Alarm.raised_at_us < high)
    return list(session.scalars(query))


def _reconcile(
    session: Session, stored: list[Alarm], derived: pl.DataFrame, withdrawn: list[int]
) -> AlarmCounts:
    """Make the stored alarms of a window the derived ones: one derived again keeps its row
    (and its operator's acknowledgement), its clear and worst sample set to the data's; one no
    longer in the data is withdrawn (deleted, its id logged); a cleared one that the data
    shows still active is withdrawn and raised again (a clear cannot be undone)."""
    counts = AlarmCounts()
    by_key = {(a.kind, a.raised_at_us): a for a in stored}
    for row in derived.iter_rows(named=True):
        alarm = by_key.pop((row["kind"], row["raised_at_us"]), None)
        active = alarm is not None and AlarmState(alarm.state) in ACTIVE
        if alarm is not None and row["cleared_at_us"] is None and not active:
            withdrawn.append(alarm.id)
            session.delete(alarm)
            session.flush()
            alarm = None
        if alarm is None:
            alarm = raise_alarm(session, row)
            counts.raised += 1
        alarm.severity, alarm.limit_value = row["severity"], row["limit"]
        alarm.worst_value, alarm.worst_at_us = row["worst_value"], row["worst_at_us"]
        if row["cleared_at_us"] is None:
            continue
        if AlarmState(alarm.state) in ACTIVE:
            alarm.cleared_at_us = row["cleared_at_us"]
            transition(session, alarm, Event.CLEAR, by=ENGINE)
            counts.cleared += 1
        else:
            alarm.cleared_at_us = row["cleared_at_us"]
    if by_key:
        gone = [alarm.id for alarm in by_key.values()]
        withdrawn.extend(gone)
        session.execute(delete(Alarm).where(Alarm.id.in_(gone)))
        for alarm in by_key.values():
            session.expunge(alarm)
    return counts


def reevaluate_spans(session: Session, spans: pl.DataFrame, *, why: str) -> AlarmCounts:
    """After samples of ``spans`` (``SPANS_SCHEMA``: each series' first and last changed
    instant) were replaced or deleted in this transaction: each series is derived again from
    its last clear sample before the span to its first clear one after it, where no alarm can
    be on whatever the rest of its history, so its alarms become what evaluating all of it
    from scratch gives. ``why`` names the change in the log of withdrawn alarms."""
    started = time.perf_counter()
    counts = AlarmCounts()
    withdrawn: list[int] = []
    if spans.is_empty():
        return counts
    limits_of = conditions(session, spans.get_column("component_id").unique().to_list())
    no_carry = pl.DataFrame(schema=CARRIED_SCHEMA)
    for component_id, kind, first_us, last_us in spans.iter_rows():
        series = (component_id, kind)
        limits = limits_of.filter(
            (pl.col("component_id") == component_id) & (pl.col("measurement_type") == kind)
        )
        if limits.is_empty():
            continue
        low = _edge(session, series, limits, first_us, before=True)
        high = _edge(session, series, limits, last_us, before=False)
        derived = derive_excursions(_samples(session, series, low, high), limits, no_carry)
        counts.add(_reconcile(session, _stored(session, series, low, high), derived, withdrawn))
    session.flush()
    if withdrawn:
        logs.on_commit(
            session, "alarms.withdrawn", user=ENGINE, started=started, why=why,
            alarm_ids=withdrawn,
        )  # fmt: skip
    return counts
