"""A single sample's quick look (the feed's post): a sample that raises nothing and clears
nothing needs no evaluation (at most its alarm's worst value moves); the rest go through the one
evaluation. See docs/architecture.md#alarms."""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import polars as pl
from sqlalchemy import ColumnElement, Float, Table, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from core.alarms.engine import COMMUNICATION_LOST, AlarmCounts, evaluate_measurements
from core.alarms.limits import REVISION, conditions
from core.alarms.records import AlarmKind
from core.driver_statements import DriverStatement
from core.models import Alarm, Component, Limit, LimitDefault, utc_now

# One bit per kind of alarm, so the kinds active on a component fit in one number of a query.
BITS = {kind.value: 1 << index for index, kind in enumerate(AlarmKind)}
_component = Component.__table__.c


def watch_columns(
    component_id: ColumnElement[int], measurement_type: ColumnElement[str]
) -> list[ColumnElement[Any]]:
    """What the quick look reads with the component's key, in the same query (no round trip
    of its own): the fields limits derive from, the limits' revision, and the kinds of the
    component's active alarms on this measurement type (and communication lost) as bits."""
    bit = case(*((Alarm.kind == kind, value) for kind, value in BITS.items()), else_=0)
    return [
        _component.capacity_mva,
        _component.rated_current_a,
        select(LimitDefault.value)
        .where(LimitDefault.name == REVISION)
        .scalar_subquery()
        .label("limits_revision"),
        # active is uncleared: a clear sets cleared_at_us
        select(func.coalesce(func.sum(bit), 0))
        .where(
            Alarm.component_id == component_id,
            Alarm.cleared_at_us.is_(None),
            or_(Alarm.measurement_type == measurement_type, Alarm.kind == COMMUNICATION_LOST),
        )
        .scalar_subquery()
        .label("active_kinds"),
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
    active_kinds: int
    own_limits: int


class Threshold(NamedTuple):
    measurement_type: str
    kind: str
    direction: int
    absolute: bool
    limit: float
    deadband: float
    delay: int

    def excess(self, value: float) -> float:
        """The rule of evaluation.excess, for one value."""
        return self.direction * ((abs(value) if self.absolute else value) - self.limit)


# Effective limits per component, kept while the fields they derive from and the limits'
# revision (changed by every limit change) stay the same. Bounded: cleared when full.
_CACHE: dict[int, tuple[Watched, pl.DataFrame, list[Threshold]]] = {}
_CACHE_SIZE = 10_000


def _limits(
    session: Session, component_id: int, watched: Watched
) -> tuple[pl.DataFrame, list[Threshold]]:
    key = watched._replace(active_kinds=0)
    found = _CACHE.get(component_id)
    if found is not None and found[0] == key:
        return found[1], found[2]
    frame = conditions(session, [component_id])
    rows = [
        Threshold(*row)
        for row in frame.select(
            "measurement_type", "kind", "direction", "absolute", "limit", "deadband", "delay"
        ).iter_rows()
    ]
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[component_id] = (key, frame, rows)
    return frame, rows


def _changes_state(thresholds: list[Threshold], active: int, value: float) -> bool:
    """Whether the sample may raise (outside a threshold with no active alarm, or any sample
    outside where a limit waits for a run) or clear (back inside an active one by its
    deadband, or a silent component heard again)."""
    if active & BITS[COMMUNICATION_LOST]:
        return True
    for threshold in thresholds:
        excess = threshold.excess(value)
        on = bool(active & BITS[threshold.kind])
        if excess > 0 and not on:
            return True
        if on and excess < -threshold.deadband:
            return True
    return False


def evaluate_sample(
    session: Session,
    watched: Watched,
    *,
    component_id: int,
    measurement_type: str,
    timestamp_us: int,
    value: float,
) -> AlarmCounts:
    """``evaluate_measurements`` of one stored sample (posted after the others of its series),
    done without Polars when it changes no alarm's state: then at most the worst value of the
    alarms it is beyond moves."""
    frame, every = _limits(session, component_id, watched)
    thresholds = [t for t in every if t.measurement_type == measurement_type]
    if _changes_state(thresholds, watched.active_kinds, value):
        sample = pl.DataFrame(
            {
                "component_id": [component_id],
                "measurement_type": [measurement_type],
                "timestamp_us": [timestamp_us],
                "value": [value],
            }
        )
        return evaluate_measurements(session, sample, limits=frame)
    beyond = [
        t.kind for t in thresholds if watched.active_kinds & BITS[t.kind] and t.excess(value) > 0
    ]
    if beyond:
        stamp = utc_now()
        for kind in beyond:
            _WORSE[_family(kind)].run(
                session,
                {"c_id": component_id, "m_type": measurement_type, "a_kind": kind,
                 "new_worst": value, "new_at": timestamp_us, "stamp": stamp},
            )  # fmt: skip
    return AlarmCounts()


def _family(kind: str) -> str:
    """Which way a kind's worst value lies (``engine.worse``): furthest from zero for a
    loading, lowest for a low limit, highest for the others."""
    if kind.startswith("loading"):
        return "loading"
    return "low" if kind.startswith("low") else "high"


_alarm_table = cast(Table, Alarm.__table__)
_alarms = _alarm_table.c
_new = bindparam("new_worst", type_=Float)
# ``engine.worse`` as one UPDATE per kind of family (no alarm loaded: a post's session has
# none): the active alarm's worst value moves only when the sample is further beyond.
_WORSE = {
    family: DriverStatement(
        update(_alarm_table)
        .values(worst_value=_new, worst_at_us=bindparam("new_at"), updated_at=bindparam("stamp"))
        .where(
            _alarms.component_id == bindparam("c_id"),
            _alarms.measurement_type == bindparam("m_type"),
            _alarms.kind == bindparam("a_kind"),
            _alarms.cleared_at_us.is_(None),
            or_(_alarms.worst_value.is_(None), further),
        ),
        processed=("stamp",),  # below SQLAlchemy: the column type's own bind processing
    )
    for family, further in (
        ("loading", func.abs(_new) > func.abs(_alarms.worst_value)),
        ("low", _new < _alarms.worst_value),
        ("high", _new > _alarms.worst_value),
    )
}
