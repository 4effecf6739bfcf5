"""Alarms where operators already look: the counts and newest alarms (Overview, sidebar), the
substations and lines in alarm (Network), a component's limits and alarms (its page).
See docs/design.md#where-alarms-show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.alarms.limits import conditions
from core.alarms.records import AlarmRecord, get_alarm, in_alarm, not_shelved, worst
from core.alarms.states import ACTIVE, OPEN, AlarmState
from core.domain import ComponentType, MeasurementType
from core.errors import InvalidInput
from core.grid.components import check_page
from core.models import Alarm, Component, utc_now

NEWEST = 5
# A chart opened on an alarm shows it with this much, or half its length, either side.
AROUND_AN_ALARM = timedelta(hours=1)
UNACKNOWLEDGED = (AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.CLEARED_UNACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class AlarmSummary:
    """Active alarms by severity (shelved ones apart, whatever their severity), the open
    alarms nobody has acknowledged (shelved ones left out), and the newest open alarms."""

    alarms: int
    warnings: int
    shelved: int
    unacknowledged: int
    newest: list[AlarmRecord]


def _values(states: Iterable[AlarmState]) -> list[str]:
    return [state.value for state in states]


def read_summary(
    *, session: Session, newest: int = NEWEST, now: datetime | None = None
) -> AlarmSummary:
    """One grouped count over the open alarms (the state index finds them) and the ``newest``
    open, unshelved alarms, the most recently raised first."""
    moment = now or utc_now()
    shown = not_shelved(moment)
    rows = session.execute(
        select(
            Alarm.state,
            Alarm.severity,
            func.count(),
            func.coalesce(func.sum(case((shown, 1), else_=0)), 0),
        )
        .where(Alarm.state.in_(_values(OPEN)))
        .group_by(Alarm.state, Alarm.severity)
    ).all()
    counts = {"alarm": 0, "warning": 0}
    shelved = unacknowledged = 0
    for raw_state, severity, count, visible in rows:
        state = AlarmState(raw_state)
        if state in ACTIVE:
            counts[severity] = counts.get(severity, 0) + int(visible)
            shelved += int(count) - int(visible)
        if state in UNACKNOWLEDGED:
            unacknowledged += int(visible)
    query = (
        select(Alarm, Component)
        .join(Component, Component.id == Alarm.component_id)
        .where(Alarm.state.in_(_values(OPEN)), shown)
        .order_by(Alarm.raised_at_us.desc(), Alarm.id.desc())
        .limit(newest)
    )
    records = [AlarmRecord.of(alarm, component) for alarm, component in session.execute(query)]
    return AlarmSummary(counts["alarm"], counts["warning"], shelved, unacknowledged, records)


def unacknowledged_count(*, session: Session, now: datetime | None = None) -> int:
    """How many open alarms nobody has acknowledged, shelved ones left out: the sidebar's
    number, one count on the state index."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Alarm)
            .where(Alarm.state.in_(_values(UNACKNOWLEDGED)), not_shelved(now or utc_now()))
        )
        or 0
    )


@dataclass(frozen=True, slots=True)
class NetworkAlarms:
    """The worst severity of each substation with a component in alarm, and of each line in
    alarm (by id): what the network map colours."""

    substations: dict[str, str]
    lines: dict[int, str]

    def key(self) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[int, str], ...]]:
        """The same for the same colours: part of a remembered figure's key."""
        return tuple(sorted(self.substations.items())), tuple(sorted(self.lines.items()))


def network_alarms(*, session: Session, now: datetime | None = None) -> NetworkAlarms:
    """Every active, unshelved alarm's component, read through the state index."""
    rows = session.execute(
        select(Component.id, Component.substation, Component.component_type, Alarm.severity)
        .join(Component, Component.id == Alarm.component_id)
        .where(in_alarm(now or utc_now()))
    )
    substations: dict[str, str] = {}
    lines: dict[int, str] = {}
    for component_id, substation, component_type, severity in rows:
        substations[substation] = worst(substations.get(substation), severity)
        if component_type == ComponentType.LINE.value:
            lines[component_id] = worst(lines.get(component_id), severity)
    return NetworkAlarms(substations, lines)


@dataclass(frozen=True, slots=True)
class LimitInForce:
    """One threshold of a component's measurement type, as the engine compares it: above
    (``direction`` +1) or below (-1) ``value``; ``absolute`` compares |value| (loading)."""

    kind: str
    severity: str
    direction: int
    absolute: bool
    value: float


def limits_in_force(
    *, session: Session, component_id: int
) -> dict[MeasurementType, list[LimitInForce]]:
    """The component's effective limits per measurement type (overrides, then its level's,
    then the defaults, as ``core.alarms.limits.conditions`` resolves them)."""
    found: dict[MeasurementType, list[LimitInForce]] = {}
    for row in conditions(session, [component_id]).iter_rows(named=True):
        found.setdefault(MeasurementType(row["measurement_type"]), []).append(
            LimitInForce(
                row["kind"], row["severity"], row["direction"], row["absolute"], row["limit"]
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class ComponentAlarms:
    """A page of a component's alarms, how many it has in all and how many are active."""

    alarms: list[AlarmRecord]
    total: int
    active: int


def component_alarms(
    *, session: Session, component_id: int, offset: int = 0, limit: int = 50
) -> ComponentAlarms:
    """The component's alarms in every state, shelved ones too, the most recently raised
    first."""
    check_page(offset, limit)
    mine = Alarm.component_id == component_id
    active = case((Alarm.state.in_(_values(ACTIVE)), 1), else_=0)
    total, active_count = session.execute(
        select(func.count(), func.coalesce(func.sum(active), 0)).select_from(Alarm).where(mine)
    ).one()
    component = session.get(Component, component_id)
    rows = session.scalars(
        select(Alarm)
        .where(mine)
        .order_by(Alarm.raised_at_us.desc(), Alarm.id.desc())
        .offset(offset)
        .limit(limit)
    )
    found = [AlarmRecord.of(alarm, component) for alarm in rows] if component else []
    return ComponentAlarms(found, int(total), int(active_count))


def component_alarm(*, session: Session, component_id: int, alarm_id: int) -> AlarmRecord:
    """The alarm a link names on its component's page: ``UnknownAlarm`` when there is none,
    refused when it is another component's."""
    record = get_alarm(session=session, alarm_id=alarm_id)
    if record.component_id != component_id:
        raise InvalidInput.single(
            "alarm",
            f"alarm {alarm_id} is not one of this component's: it is "
            f"{record.component_name}'s in {record.substation}",
        )
    return record


def alarm_window(record: AlarmRecord, latest: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) around the alarm, from its raise to its clear (to ``latest``, the newest
    measurement, while it is active), with an hour or half its length either side."""
    end = record.cleared_at or max(latest or record.raised_at, record.raised_at)
    margin = max(AROUND_AN_ALARM, (end - record.raised_at) / 2)
    return record.raised_at - margin, end + margin
