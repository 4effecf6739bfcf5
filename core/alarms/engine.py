"""Where alarms are raised and cleared: ``evaluate_measurements`` (the one entry point every
write path calls inside its transaction), ``evaluate_history`` over stored measurements, the
re-evaluation after a limit change, the silence check. See docs/architecture.md#alarms."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.alarms.evaluation import (
    CARRIED_SCHEMA,
    KEY,
    SAMPLES_SCHEMA,
    beyond,
    derive_excursions,
    reachable,
)
from core.alarms.history import TYPES_IN_KEY_ORDER, stored_pages
from core.alarms.limits import conditions, get_defaults
from core.alarms.states import ACTIVE, AlarmState, Event, raise_all, transition
from core.grid.overview import newest_of_each_type
from core.models import Alarm, Component, Measurement, utc_now
from core.timestamps import DAY_US, MINUTE_US, to_micros

# Who raises and clears alarms: the measurements did, through the engine.
ENGINE = "system:alarms"
COMMUNICATION_LOST = "communication_lost"
HISTORY_PAGE_ROWS = 100_000


@dataclass(slots=True)
class AlarmCounts:
    raised: int = 0
    cleared: int = 0

    def add(self, other: AlarmCounts) -> None:
        self.raised += other.raised
        self.cleared += other.cleared


def _active(session: Session, component_ids: Collection[int]) -> list[Alarm]:
    return list(
        session.scalars(
            select(Alarm).where(
                Alarm.component_id.in_(sorted(component_ids)),
                Alarm.state.in_([s.value for s in ACTIVE]),
            )
        )
    )


def _clear(session: Session, alarm: Alarm, at_us: int, comment: str | None = None) -> None:
    alarm.cleared_at_us = at_us
    transition(session, alarm, Event.CLEAR, by=ENGINE, comment=comment)


def evaluate_measurements(
    session: Session, frame: pl.DataFrame, *, limits: pl.DataFrame | None = None
) -> AlarmCounts:
    """Raise and clear the alarms that ``frame``'s samples (component_id, measurement_type,
    timestamp_us, value; stored in this transaction) cause. The same rows give the same
    alarms whichever path brought them, and evaluating them again changes nothing."""
    if frame.is_empty():
        return AlarmCounts()
    frame = frame.select(list(SAMPLES_SCHEMA)).cast(SAMPLES_SCHEMA)
    ids = frame.get_column("component_id").unique().to_list()
    active = _active(session, ids)
    counts = _clear_silences(session, frame, active)
    limits = conditions(session, ids) if limits is None else limits
    if limits.is_empty():
        return counts
    counts.add(_evaluate(session, frame, limits, active)[0])
    return counts


def _keys(active: list[Alarm]) -> pl.DataFrame:
    return pl.DataFrame(
        [(a.component_id, a.measurement_type, a.kind) for a in active],
        schema={"component_id": pl.Int64, "measurement_type": pl.String, "kind": pl.String},
        orient="row",
    )


def _firsts(frame: pl.DataFrame) -> dict[tuple[int, str], int]:
    return {
        (component_id, kind): first
        for component_id, kind, first in frame.group_by("component_id", "measurement_type")
        .agg(pl.col("timestamp_us").min())
        .iter_rows()
    }


def _with_preceding(session: Session, frame: pl.DataFrame, limits: pl.DataFrame) -> pl.DataFrame:
    """``frame`` and, where a limit waits for several samples in a row, the stored samples just
    before it, so that a run of samples outside counts across batches (and single posts)."""
    longest = limits.get_column("delay").max()
    if not isinstance(longest, int) or longest <= 1:
        return frame
    parts = [frame]
    for (component_id, kind), first in sorted(_firsts(frame).items()):
        rows = session.execute(
            select(
                Measurement.component_id,
                Measurement.measurement_type,
                Measurement.timestamp_us,
                Measurement.value,
            )
            .where(
                Measurement.component_id == component_id,
                Measurement.measurement_type == kind,
                Measurement.timestamp_us < first,
            )
            .order_by(Measurement.timestamp_us.desc())
            .limit(longest - 1)
        ).all()
        parts.append(pl.DataFrame([tuple(r) for r in rows], schema=SAMPLES_SCHEMA, orient="row"))
    return pl.concat(parts)


def _evaluate(
    session: Session,
    frame: pl.DataFrame,
    limits: pl.DataFrame,
    active: list[Alarm],
    *,
    carry_all: bool = False,
) -> tuple[AlarmCounts, set[int]]:
    """Store the excursions of ``frame``: the counts, and the ids of the alarms it touched.
    An active alarm is carried into the batch when it was raised by its first sample or
    earlier (history imported from before it is evaluated on its own)."""
    firsts = _firsts(frame)
    limits = reachable(frame, limits, _keys(active))
    if limits.is_empty():
        return AlarmCounts(), set()
    frame = _with_preceding(session, frame, limits)
    by_key = {(a.component_id, a.measurement_type, a.kind): a for a in active}
    carried = [
        (a.component_id, a.measurement_type, a.kind, a.raised_at_us)
        for a in active
        if a.kind != COMMUNICATION_LOST
        and (carry_all or a.raised_at_us <= firsts.get((a.component_id, a.measurement_type), -1))
    ]
    excursions = derive_excursions(
        frame, limits, pl.DataFrame(carried, schema=CARRIED_SCHEMA, orient="row")
    )
    counts, touched = AlarmCounts(), set[int]()
    if excursions.is_empty():
        return counts, touched
    stored = _stored(session, excursions)
    rows = list(excursions.iter_rows(named=True))
    found: list[Alarm] = []
    new: list[Alarm] = []
    for row in rows:
        key = (row["component_id"], row["measurement_type"], row["kind"])
        alarm = stored.get((*key, row["raised_at_us"]))
        if alarm is None:
            current = by_key.get(key)
            if current is not None and current.raised_at_us == row["raised_at_us"]:
                alarm = current
        if alarm is None:
            alarm = new_alarm(row)
            new.append(alarm)
        worse(alarm, row)
        found.append(alarm)
    raise_all(session, new, by=ENGINE)  # one flush for the batch's new alarms
    counts.raised += len(new)
    for alarm, row in zip(found, rows, strict=True):
        touched.add(alarm.id)
        if row["cleared_at_us"] is not None and AlarmState(alarm.state) in ACTIVE:
            _clear(session, alarm, row["cleared_at_us"])
            counts.cleared += 1
    return counts, touched


def new_alarm(row: dict[str, Any]) -> Alarm:
    """The alarm of an excursion ``row`` of ``derive_excursions``, not yet raised: its key,
    severity and limit (``worse`` gives it its worst sample)."""
    return Alarm(
        component_id=row["component_id"],
        measurement_type=row["measurement_type"],
        kind=row["kind"],
        severity=row["severity"],
        limit_value=row["limit"],
        raised_at_us=row["raised_at_us"],
        state=None,
    )


def raise_alarm(session: Session, row: dict[str, Any]) -> Alarm:
    """A new alarm for an excursion ``row`` of ``derive_excursions``: its limit and worst
    sample, raised by the engine (audited as its first transition)."""
    alarm = new_alarm(row)
    worse(alarm, row)
    transition(session, alarm, Event.RAISE, by=ENGINE)
    return alarm


def worse(alarm: Alarm, row: dict[str, Any]) -> None:
    """Keep the worst sample: the one furthest beyond the limit."""
    value: float | None = row["worst_value"]
    if value is None:
        return
    if alarm.worst_value is None or beyond(alarm.kind, value) > beyond(
        alarm.kind, alarm.worst_value
    ):
        alarm.worst_value = value
        alarm.worst_at_us = row["worst_at_us"]


def _stored(session: Session, excursions: pl.DataFrame) -> dict[tuple[int, str, str, int], Alarm]:
    """The alarms already stored for these excursions: those of their components raised at
    one of their instants (a statement whose lists grow, compiled once), kept by full key."""
    keys = set(excursions.select(*KEY, "raised_at_us").unique().rows())
    ordered = sorted(keys)
    found: dict[tuple[int, str, str, int], Alarm] = {}
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = select(Alarm).where(
            Alarm.component_id.in_(sorted({key[0] for key in chunk})),
            Alarm.raised_at_us.in_(sorted({key[3] for key in chunk})),
        )
        for alarm in session.scalars(query):
            key = (alarm.component_id, alarm.measurement_type, alarm.kind, alarm.raised_at_us)
            if key in keys:
                found[key] = alarm
    return found


def _silence_us(session: Session) -> int:
    return int(get_defaults(session=session)["silence_minutes"] * MINUTE_US)


def _clear_silences(session: Session, frame: pl.DataFrame, active: list[Alarm]) -> AlarmCounts:
    """A component that reports again clears its communication-lost alarm, at the first sample
    after the one it was last heard by (``limit_value`` holds the silence, in minutes)."""
    counts = AlarmCounts()
    silent = [a for a in active if a.kind == COMMUNICATION_LOST]
    if not silent:
        return counts
    for alarm in silent:
        last_heard = alarm.raised_at_us - int((alarm.limit_value or 0) * MINUTE_US)
        later = frame.filter(
            (pl.col("component_id") == alarm.component_id) & (pl.col("timestamp_us") > last_heard)
        ).sort("timestamp_us")
        if not later.is_empty():
            _clear(session, alarm, int(later.get_column("timestamp_us").to_list()[0]))
            counts.cleared += 1
    return counts


def evaluate_history(
    session: Session,
    *,
    since: datetime,
    component_ids: Collection[int] | None = None,
    page_rows: int = HISTORY_PAGE_ROWS,
) -> AlarmCounts:
    """Re-derive the alarms of the stored measurements from ``since`` (after a limit change, or
    an import made without evaluation), a component and a page at a time. Idempotent: an
    excursion already stored is found again by its key, not raised twice."""
    since_us = to_micros(since)
    # Every component's limits in one frame (one query each cost more than their reads).
    every = conditions(session, component_ids)
    limits_of = {
        key[0]: part for key, part in every.partition_by("component_id", as_dict=True).items()
    }
    if component_ids is None:
        component_ids = sorted(limits_of)
    # A silent component is cleared by a sample of any type; else only types with limits count.
    silent = set(
        session.scalars(
            select(Alarm.component_id).where(
                Alarm.kind == COMMUNICATION_LOST, Alarm.state.in_([s.value for s in ACTIVE])
            )
        )
    )
    counts = AlarmCounts()
    for component_id in component_ids:
        limits = limits_of.get(component_id)
        if limits is None:
            continue
        types = (
            TYPES_IN_KEY_ORDER
            if component_id in silent
            else set(limits.get_column("measurement_type").to_list())
        )
        for page in stored_pages(session, component_id, since_us, page_rows, types):
            counts.add(evaluate_measurements(session, page, limits=limits))
            session.flush()
    return counts


def reevaluate_active(
    session: Session, component_ids: Collection[int] | None = None
) -> AlarmCounts:
    """After a limit changed: each active alarm of ``component_ids`` (every component when
    ``None``) is checked against the new limits over the samples since it was raised; one no
    longer outside (or whose limit is gone) clears, at the sample that shows it."""
    query = select(Alarm).where(
        Alarm.state.in_([s.value for s in ACTIVE]), Alarm.kind != COMMUNICATION_LOST
    )
    if component_ids is not None:
        query = query.where(Alarm.component_id.in_(sorted(component_ids)))
    active = list(session.scalars(query))
    counts = AlarmCounts()
    for component_id in sorted({a.component_id for a in active}):
        mine = [a for a in active if a.component_id == component_id]
        limits = conditions(session, [component_id])
        since_us = min(a.raised_at_us for a in mine)
        touched: set[int] = set()
        last_seen: dict[str, int] = {}
        for page in stored_pages(session, component_id, since_us, HISTORY_PAGE_ROWS):
            still = [a for a in mine if AlarmState(a.state) in ACTIVE]
            found, ids = _evaluate(session, page, limits, still, carry_all=True)
            counts.add(found)
            touched |= ids
            for kind, newest in (
                page.group_by("measurement_type").agg(pl.col("timestamp_us").max()).iter_rows()
            ):
                last_seen[kind] = newest
        for alarm in mine:
            if alarm.id not in touched and AlarmState(alarm.state) in ACTIVE:
                at = last_seen.get(alarm.measurement_type, alarm.raised_at_us)
                _clear(session, alarm, at, comment="its limit changed: no longer outside it")
                counts.cleared += 1
    return counts


def check_communication(session: Session, *, now: datetime | None = None) -> AlarmCounts:
    """Raise communication lost for each component that reported in the day before ``now``
    but not for the configured silence (data time), and clear it for one heard from since.
    The worker calls it every minute."""
    now_us = to_micros(now or utc_now())
    silence_us = _silence_us(session)
    newest = newest_of_each_type()
    last_heard: dict[int, int | None] = {}
    for component_id, *times in session.execute(select(Component.id, *newest)).all():
        samples = [t for t in times if t is not None]
        last_heard[component_id] = max(samples) if samples else None
    active = {
        a.component_id: a
        for a in session.scalars(
            select(Alarm).where(
                Alarm.kind == COMMUNICATION_LOST, Alarm.state.in_([s.value for s in ACTIVE])
            )
        )
    }
    counts = AlarmCounts()
    for component_id, heard in sorted(last_heard.items()):
        alarm = active.get(component_id)
        if heard is None:
            continue
        if alarm is not None:
            was_heard = alarm.raised_at_us - int((alarm.limit_value or 0) * MINUTE_US)
            if heard > was_heard:
                _clear(session, alarm, heard)
                counts.cleared += 1
            continue
        if now_us - DAY_US <= heard <= now_us - silence_us:
            alarm = Alarm(
                component_id=component_id,
                measurement_type="",
                kind=COMMUNICATION_LOST,
                severity="alarm",
                limit_value=silence_us / MINUTE_US,
                raised_at_us=heard + silence_us,
                state=None,
            )
            transition(session, alarm, Event.RAISE, by=ENGINE)
            counts.raised += 1
    session.flush()
    return counts
