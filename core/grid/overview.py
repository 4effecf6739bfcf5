"""The state of the grid at a glance for the Overview page, read from indexes and rollups only
(never from the measurements). See docs/architecture.md#the-grid-views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.domain import ComponentType, MeasurementType
from core.models import Component, Measurement, MeasurementRollup, Report
from core.remembered import Remembered
from core.timestamps import EPOCH, ONE_MICROSECOND, from_micros

STALE_AFTER = timedelta(days=1)
LATEST_REPORTS = 5


@dataclass(frozen=True, slots=True)
class LevelCount:
    """Components of one type at one voltage level (``None``: switches have none)."""

    component_type: ComponentType
    voltage_kv: float | None
    count: int


@dataclass(frozen=True, slots=True)
class SubstationState:
    """A substation's component count, its newest measurement, and how many of its
    components have none since the cut-off."""

    substation: str
    components: int
    newest: datetime | None
    stale: int


@dataclass(frozen=True, slots=True)
class StaleComponent:
    """A component with no measurement in the last day of data (``newest`` is ``None`` when
    it has never been measured)."""

    id: int
    name: str
    substation: str
    component_type: ComponentType
    newest: datetime | None


@dataclass(frozen=True, slots=True)
class FinishedReport:
    id: int
    period_start: datetime
    period_end: datetime
    time_zone: str
    requested_by: str
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Overview:
    components: int
    counts_by_type: dict[ComponentType, int]
    counts_by_level: list[LevelCount]
    substations: list[SubstationState]
    measurements: int
    first_measurement: datetime | None  # the start of its 15-minute bucket
    last_measurement: datetime | None  # exact
    stale_since: datetime | None  # the last measurement minus a day: older data is stale
    stale: list[StaleComponent]
    latest_reports: list[FinishedReport]


@dataclass(frozen=True, slots=True)
class _Newest:
    """Each component's identity and its newest measurement (microseconds, or ``None``)."""

    rows: tuple[tuple[int, str, str, str, int | None], ...]


@dataclass(frozen=True, slots=True)
class _DataVersion:
    """What changes whenever the remembered table may be out of date: a component is added,
    deleted (its count and highest id) or edited (the latest change), measurements are added
    or removed (the rollups' total and last bucket). Overwriting values at the same times
    changes none of these, and no newest time either."""

    database: str
    components: int
    highest_id: int | None
    last_change: datetime | None
    measurements: int
    last_bucket: int | None


# The newest-measurement table of the last few data versions (a few hundred kB for 10,000
# components), shared by every session of the process.
REMEMBERED: Remembered[_DataVersion, _Newest] = Remembered(4)


def newest_of_each_type() -> list[Any]:
    """For a query of components, the newest time of each measurement type of each: one
    backward index seek per type on the unique key (component, type, time)."""
    return [
        select(func.max(Measurement.timestamp_us))
        .where(Measurement.component_id == Component.id, Measurement.measurement_type == kind)
        .correlate(Component)
        .scalar_subquery()
        for kind in MeasurementType
    ]


def newest_query() -> Select[Any]:
    """Each component with the newest time of each measurement type (``newest_of_each_type``)."""
    newest = newest_of_each_type()
    return (
        select(Component.id, Component.name, Component.substation, Component.component_type)
        .add_columns(*newest)
        .order_by(Component.substation, Component.name)
    )


def _newest_per_component(session: Session) -> _Newest:
    rows = session.execute(newest_query())
    found = []
    for component_id, name, substation, kind, *times in rows:
        known = [time for time in times if time is not None]
        found.append((component_id, name, substation, kind, max(known) if known else None))
    return _Newest(tuple(found))


def _data_version(session: Session) -> _DataVersion:
    components, highest, last_change = session.execute(
        select(func.count(), func.max(Component.id), func.max(Component.updated_at))
    ).one()
    measurements, last_bucket = session.execute(
        select(func.coalesce(func.sum(MeasurementRollup.sample_count), 0)).add_columns(
            func.max(MeasurementRollup.bucket_us)
        )
    ).one()
    bind = session.get_bind()
    return _DataVersion(
        database=bind.engine.url.render_as_string(hide_password=True),
        components=int(components),
        highest_id=highest,
        last_change=last_change,
        measurements=int(measurements),
        last_bucket=last_bucket,
    )


def _newest(session: Session, version: _DataVersion) -> _Newest:
    return REMEMBERED.remember(version, lambda: _newest_per_component(session))


def _levels(session: Session) -> list[LevelCount]:
    rows = session.execute(
        select(Component.component_type, Component.voltage_kv, func.count())
        .group_by(Component.component_type, Component.voltage_kv)
        .order_by(Component.component_type, Component.voltage_kv.desc())
    )
    return [LevelCount(ComponentType(kind), voltage, int(count)) for kind, voltage, count in rows]


def _first_bucket(session: Session) -> int | None:
    """The first non-empty bucket: the primary key (component type, measurement type,
    bucket) gives each of the nine series' first bucket with one seek."""
    firsts = [
        select(func.min(MeasurementRollup.bucket_us))
        .where(
            MeasurementRollup.component_type == component_type,
            MeasurementRollup.measurement_type == measurement_type,
            MeasurementRollup.sample_count > 0,
        )
        .scalar_subquery()
        for component_type in ComponentType
        for measurement_type in MeasurementType
    ]
    values = [value for value in session.execute(select(*firsts)).one() if value is not None]
    return min(values) if values else None


def latest_reports(session: Session, limit: int = LATEST_REPORTS) -> list[FinishedReport]:
    rows = session.execute(
        select(
            Report.id,
            Report.period_start,
            Report.period_end,
            Report.time_zone,
            Report.requested_by,
            Report.finished_at,
        )
        .where(Report.status == "completed")
        .order_by(Report.finished_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return [FinishedReport(*row) for row in rows]


@dataclass(slots=True)
class _Tally:
    components: int = 0
    newest_us: int | None = None
    stale: int = 0


def _substation_states(
    newest: Sequence[tuple[int, str, str, str, int | None]], cutoff_us: int | None
) -> tuple[list[SubstationState], list[StaleComponent]]:
    tallies: dict[str, _Tally] = {}
    stale: list[StaleComponent] = []
    for component_id, name, substation, kind, time_us in newest:
        tally = tallies.setdefault(substation, _Tally())
        tally.components += 1
        if time_us is not None and (tally.newest_us is None or time_us > tally.newest_us):
            tally.newest_us = time_us
        if time_us is None or (cutoff_us is not None and time_us < cutoff_us):
            tally.stale += 1
            stale.append(
                StaleComponent(
                    component_id,
                    name,
                    substation,
                    ComponentType(kind),
                    None if time_us is None else from_micros(time_us),
                )
            )
    # Never measured first, then the longest silent.
    stale.sort(key=lambda c: (c.newest is not None, c.newest or EPOCH, c.substation, c.name))
    substations = [
        SubstationState(
            substation=name,
            components=tally.components,
            newest=None if tally.newest_us is None else from_micros(tally.newest_us),
            stale=tally.stale,
        )
        for name, tally in sorted(tallies.items())
    ]
    return substations, stale


def _with_far_ends(session: Session, states: list[SubstationState]) -> list[SubstationState]:
    """Add the substations that only lines name as their other end (no component of their
    own yet), so the Overview counts the substations the Network shows."""
    known = {state.substation for state in states}
    far = session.scalars(
        select(Component.to_substation).where(Component.to_substation.is_not(None)).distinct()
    )
    extra = [SubstationState(name, 0, None, 0) for name in far if name and name not in known]
    return sorted([*states, *extra], key=lambda state: state.substation) if extra else states


def read_overview(*, session: Session) -> Overview:
    """Counts, substations, the measurement span, data freshness and the latest completed
    reports. A component is stale when its newest measurement is more than a day older than
    the newest measurement of all (or it has none): "the last day of data", not of the clock,
    so a demo database seeded last week is not all stale."""
    version = _data_version(session)
    newest = _newest(session, version).rows
    last_us = max((row[4] for row in newest if row[4] is not None), default=None)
    cutoff_us = None if last_us is None else last_us - STALE_AFTER // ONE_MICROSECOND
    substations, stale = _substation_states(newest, cutoff_us)
    substations = _with_far_ends(session, substations)
    levels = _levels(session)
    by_type = dict.fromkeys(ComponentType, 0)
    for level in levels:
        by_type[level.component_type] += level.count
    first = _first_bucket(session) if version.measurements else None
    return Overview(
        components=version.components,
        counts_by_type=by_type,
        counts_by_level=levels,
        substations=substations,
        measurements=version.measurements,
        first_measurement=None if first is None else from_micros(first),
        last_measurement=None if last_us is None else from_micros(last_us),
        stale_since=None if cutoff_us is None else from_micros(cutoff_us),
        stale=stale,
        latest_reports=latest_reports(session),
    )
