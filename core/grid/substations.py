"""One substation: its components with their latest values, the lines that connect it, and
the recent series of its components. See docs/architecture.md#the-grid-views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.domain import ComponentType, MeasurementType
from core.errors import UnknownSubstation
from core.grid.components import ComponentRecord
from core.measurements.measurements import Series, read_series
from core.models import Component, Measurement, Substation
from core.timestamps import ONE_MICROSECOND, from_micros
from core.validation import unstorable_character

CHART_DAYS = 7
CHART_POINTS = 400


@dataclass(frozen=True, slots=True)
class Latest:
    value: float
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """A component of the substation and the latest value of each measurement type."""

    component: ComponentRecord
    latest: dict[MeasurementType, Latest]


@dataclass(frozen=True, slots=True)
class Connection:
    """A line at this substation, the substation at its other end (``None``: unknown) and the
    line's latest value of each measurement type (an arriving line's too: the diagram shows it)."""

    line: ComponentRecord
    other_end: str | None
    starts_here: bool  # False: the line belongs to the other substation and ends here
    latest: dict[MeasurementType, Latest]


@dataclass(frozen=True, slots=True)
class SubstationView:
    name: str
    members: list[Member]  # by type (transformers, lines, switches), then name
    connections: list[Connection]  # lines leaving first, then lines arriving; by name

    @property
    def newest(self) -> datetime | None:
        times = [latest.timestamp for m in self.members for latest in m.latest.values()]
        return max(times, default=None)

    def of_type(self, kind: ComponentType) -> list[Member]:
        return [m for m in self.members if m.component.component_type is kind]


_TYPE_ORDER = {kind: position for position, kind in enumerate(ComponentType)}


def _latest(session: Session, component_ids: list[int]) -> dict[int, dict[MeasurementType, Latest]]:
    """Each component's latest value of each measurement type: one statement per type, in
    which each component's newest timestamp is a ``max`` over the unique index's prefix (an
    index lookup per component on both databases, never a scan of a series)."""
    found: dict[int, dict[MeasurementType, Latest]] = {cid: {} for cid in component_ids}
    if not component_ids:
        return found
    for kind in MeasurementType:
        newest = (
            select(func.max(Measurement.timestamp_us))
            .where(
                Measurement.component_id == Component.id,
                Measurement.measurement_type == kind.value,
            )
            .scalar_subquery()
        )
        latest = (
            select(Component.id.label("component_id"), newest.label("timestamp_us"))
            .where(Component.id.in_(component_ids))
            .subquery()
        )
        rows = session.execute(
            select(Measurement.component_id, Measurement.timestamp_us, Measurement.value).join(
                latest,
                (Measurement.component_id == latest.c.component_id)
                & (Measurement.measurement_type == kind.value)
                & (Measurement.timestamp_us == latest.c.timestamp_us),
            )
        )
        for row in rows:
            found[row.component_id][kind] = Latest(row.value, from_micros(row.timestamp_us))
    return found


def read_substation(*, session: Session, name: str) -> SubstationView:
    """The substation called ``name`` (exactly, after trimming): a substation record, with
    or without components yet, or a name components still hold; else ``UnknownSubstation``."""
    name = name.strip()
    if not name or unstorable_character(name) is not None:
        raise UnknownSubstation(name)
    rows = session.scalars(
        select(Component)
        .where(or_(Component.substation == name, Component.to_substation == name))
        .order_by(Component.name, Component.id)
    ).all()
    if not rows:
        recorded = session.scalar(select(Substation.name).where(Substation.name == name))
        if recorded is None:
            raise UnknownSubstation(name)
        return SubstationView(name=recorded, members=[], connections=[])
    here = [ComponentRecord.of(row) for row in rows if row.substation == name]
    arriving = [ComponentRecord.of(row) for row in rows if row.substation != name]
    here.sort(key=lambda c: (_TYPE_ORDER[c.component_type], c.name))
    latest = _latest(session, [c.id for c in rows])
    members = [Member(component, latest[component.id]) for component in here]
    connections = [
        Connection(
            line=m.component, other_end=m.component.to_substation, starts_here=True, latest=m.latest
        )
        for m in members
        if m.component.component_type is ComponentType.LINE
    ]
    connections += [
        Connection(line=c, other_end=c.substation, starts_here=False, latest=latest[c.id])
        for c in arriving
    ]
    return SubstationView(name=name, members=members, connections=connections)


def substation_series(
    *,
    session: Session,
    view: SubstationView,
    measurement_type: MeasurementType,
    days: int = CHART_DAYS,
    max_points: int = CHART_POINTS,
) -> dict[int, Series]:
    """The last ``days`` days (before the substation's newest measurement) of one measurement
    type for each of its components that has some, at most ``max_points`` points each."""
    newest = view.newest
    if newest is None:
        return {}
    end = newest + ONE_MICROSECOND
    start = end - timedelta(days=days)
    found = {}
    for member in view.members:
        if measurement_type not in member.latest:
            continue
        series = read_series(
            session=session,
            component_id=member.component.id,
            measurement_type=measurement_type,
            start=start,
            end=end,
            max_points=max_points,
        )
        if series.raw_count:
            found[member.component.id] = series
    return found
