"""Re-evaluating what a change of stored samples (replaced or deleted) touched: each series'
span, widened to the samples clear of every limit on either side, derived again and reconciled
with its stored alarms. See docs/design.md#limits-and-alarms."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, bindparam, delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from core import logs
from core.alarms.engine import COMMUNICATION_LOST, ENGINE, AlarmCounts, raise_alarm
from core.alarms.evaluation import CARRIED_SCHEMA, derive_excursions
from core.alarms.history import series_frame
from core.alarms.limits import conditions
from core.alarms.states import ACTIVE, AlarmState, Event, transition
from core.driver_statements import DriverStatement
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


# Edge queries of this many spans go in one statement (two scalar subqueries each).
_EDGES_PER_STATEMENT = 100
# The instants no sample is before or after: a window open on that side.
_NEVER_BEFORE, _NEVER_AFTER = -(2**63), 2**63 - 1

# One series' samples in a window, on the driver's cursor: a range of the key index.
_WINDOW = DriverStatement(
    select(Measurement.timestamp_us, Measurement.value)
    .where(
        Measurement.component_id == bindparam("component_id"),
        Measurement.measurement_type == bindparam("measurement_type"),
        Measurement.timestamp_us >= bindparam("low_us"),
        Measurement.timestamp_us <= bindparam("high_us"),
    )
    .order_by(Measurement.timestamp_us)
)


def _edge(
    series: tuple[int, str], limits: pl.DataFrame, at_us: int, *, before: bool
) -> ScalarSelect[Any]:
    """The nearest clear sample strictly before (or after) ``at_us``; empty if none."""
    component_id, kind = series
    query = select(Measurement.timestamp_us).where(
        Measurement.component_id == component_id,
        Measurement.measurement_type == kind,
        Measurement.timestamp_us < at_us if before else Measurement.timestamp_us > at_us,
        _clear(limits),
    )
    order = Measurement.timestamp_us.desc() if before else Measurement.timestamp_us
    return query.order_by(order).limit(1).correlate(None).scalar_subquery()


def _edges(
    session: Session, windows: list[tuple[tuple[int, str], pl.DataFrame, int, int]]
) -> list[tuple[int | None, int | None]]:
    """Each span's edges (the nearest clear samples either side), a hundred spans to a
    statement: one row of two scalar subqueries per span."""
    found: list[tuple[int | None, int | None]] = []
    for start in range(0, len(windows), _EDGES_PER_STATEMENT):
        chunk = windows[start : start + _EDGES_PER_STATEMENT]
        columns = [
            edge.label(f"e{index}")
            for index, (series, limits, first_us, last_us) in enumerate(chunk)
            for edge in (
                _edge(series, limits, first_us, before=True),
                _edge(series, limits, last_us, before=False),
            )
        ]
        row = session.execute(select(*columns)).one()
        found.extend((row[2 * i], row[2 * i + 1]) for i in range(len(chunk)))
    return found


def _samples(
    session: Session, series: tuple[int, str], low: int | None, high: int | None
) -> pl.DataFrame:
    component_id, kind = series
    rows = _WINDOW.rows(
        session,
        {"component_id": component_id, "measurement_type": kind,
         "low_us": _NEVER_BEFORE if low is None else low,
         "high_us": _NEVER_AFTER if high is None else high},
    )  # fmt: skip
    return series_frame(component_id, kind, rows)


def _stored(
    session: Session, windows: list[tuple[tuple[int, str], int | None, int | None]]
) -> dict[tuple[int, str], list[Alarm]]:
    """The stored alarms raised strictly inside each series' window (not a lost
    communication), by series; a hundred windows to a query."""
    found: dict[tuple[int, str], list[Alarm]] = {series: [] for series, _, _ in windows}
    for start in range(0, len(windows), _EDGES_PER_STATEMENT):
        tests = []
        for (component_id, kind), low, high in windows[start : start + _EDGES_PER_STATEMENT]:
            test = [Alarm.component_id == component_id, Alarm.measurement_type == kind]
            if low is not None:
                test.append(Alarm.raised_at_us > low)
            if high is not None:
                test.append(Alarm.raised_at_us < high)
            tests.append(and_(*test))
        query = select(Alarm).where(Alarm.kind != COMMUNICATION_LOST, or_(*tests))
        for alarm in session.scalars(query.order_by(Alarm.id)):
            found[(alarm.component_id, alarm.measurement_type)].append(alarm)
    return found


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
    series = ["component_id", "measurement_type"]
    limits_of = conditions(session, spans.get_column("component_id").unique().to_list())
    limits_of = limits_of.join(spans.select(series).unique(), on=series, how="semi")
    by_series = limits_of.partition_by(series, as_dict=True)
    windows = [
        ((component_id, kind), by_series[(component_id, kind)], first_us, last_us)
        for component_id, kind, first_us, last_us in spans.iter_rows()
        if (component_id, kind) in by_series
    ]
    if not windows:
        return counts
    edges = _edges(session, windows)
    bounds = [(key, low, high) for (key, *_), (low, high) in zip(windows, edges, strict=True)]
    # every window through one run of the pipeline: no carried alarm (each window starts
    # where none can be on), the series kept apart by their thresholds
    samples = pl.concat([_samples(session, key, low, high) for key, low, high in bounds])
    derived = derive_excursions(samples, limits_of, pl.DataFrame(schema=CARRIED_SCHEMA))
    derived_of = derived.partition_by(series, as_dict=True)
    stored_of = _stored(session, bounds)
    for series_key, _, _, _ in windows:
        mine = derived_of.get(series_key, derived.clear())
        counts.add(_reconcile(session, stored_of[series_key], mine, withdrawn))
    session.flush()
    if withdrawn:
        logs.on_commit(
            session, "alarms.withdrawn", user=ENGINE, started=started, why=why,
            alarm_ids=withdrawn,
        )  # fmt: skip
    return counts
