"""Alarms as people read and handle them: list (active first, by severity and age) and read
one for anyone; acknowledge and shelve for a manager. See docs/design.md#limits-and-alarms."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from core import logs
from core.alarms.states import ACTIVE, OPEN, AlarmState, Event, transition
from core.domain import Actor, ComponentType, MeasurementType, require_manager
from core.errors import InvalidInput, UnknownReference
from core.grid.components import check_page
from core.models import ID_RANGE, Alarm, AlarmEvent, Component, utc_now
from core.timestamps import from_micros, to_micros
from core.validation import FieldError, choice_field, parse_text

# How long one shelving may hide an alarm: a shelved alarm is one nobody watches.
MAX_SHELVE = timedelta(days=7)
COMMENT_LENGTH = 1000


class AlarmKind(StrEnum):
    HIGH_ALARM = "high_alarm"
    HIGH_WARNING = "high_warning"
    LOW_WARNING = "low_warning"
    LOW_ALARM = "low_alarm"
    LOADING_ALARM = "loading_alarm"
    LOADING_WARNING = "loading_warning"
    COMMUNICATION_LOST = "communication_lost"


class UnknownAlarm(UnknownReference):
    def __init__(self, alarm_id: int) -> None:
        self.alarm_id = alarm_id
        super().__init__(f"alarm {alarm_id} does not exist")


@dataclass(frozen=True, slots=True)
class AlarmEventRecord:
    event: str
    from_state: str | None
    to_state: str
    at: datetime
    by: str
    comment: str | None


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    id: int
    component_id: int
    component_name: str
    substation: str
    component_type: ComponentType
    measurement_type: MeasurementType | None
    kind: AlarmKind
    severity: str
    limit: float | None
    worst_value: float | None
    worst_at: datetime | None
    raised_at: datetime
    cleared_at: datetime | None
    state: AlarmState
    shelved_until: datetime | None
    shelve_reason: str | None
    events: tuple[AlarmEventRecord, ...] = ()

    @classmethod
    def of(
        cls, alarm: Alarm, component: Component, events: tuple[AlarmEventRecord, ...] = ()
    ) -> AlarmRecord:
        return cls(
            id=alarm.id,
            component_id=alarm.component_id,
            component_name=component.name,
            substation=component.substation,
            component_type=ComponentType(component.component_type),
            measurement_type=MeasurementType(alarm.measurement_type)
            if alarm.measurement_type
            else None,
            kind=AlarmKind(alarm.kind),
            severity=alarm.severity,
            limit=alarm.limit_value,
            worst_value=alarm.worst_value,
            worst_at=from_micros(alarm.worst_at_us) if alarm.worst_at_us is not None else None,
            raised_at=from_micros(alarm.raised_at_us),
            cleared_at=from_micros(alarm.cleared_at_us)
            if alarm.cleared_at_us is not None
            else None,
            state=AlarmState(alarm.state),
            shelved_until=alarm.shelved_until,
            shelve_reason=alarm.shelve_reason,
            events=events,
        )


@dataclass(frozen=True, slots=True)
class AlarmPage:
    alarms: list[AlarmRecord]
    total: int


class AlarmOrder(StrEnum):
    # What needs an operator first: active ones, alarms before warnings, the oldest first.
    URGENCY = "urgency"
    # What happened last first: a history reads back from now.
    NEWEST = "newest"


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Which alarms a list shows: in ``states``, of a kind, a substation, a component type
    or one component, raised in [start, end); a shelved alarm only if ``include_shelved``
    (until its time is up). The one place those rules live: lists, pages and files."""

    states: tuple[AlarmState, ...] = OPEN
    kind: AlarmKind | None = None
    substation: str | None = None
    component_type: ComponentType | None = None
    component_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    include_shelved: bool = False

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidInput.single("end", "must be after start")

    def _terms(
        self, now: datetime | None, *, newest_first: bool = False
    ) -> tuple[list[Any], list[Any]]:
        """The conditions on the alarm's own columns, and those on its component's.

        Newest first, the state is compared as an expression no index answers: the planner
        then walks the raise-time index backwards and stops at the page's last row, where
        SQLite (which keeps no statistics unless analyzed) would read every closed alarm
        through the state index and sort them. Every state at once is no condition at all."""
        on_alarm: list[Any] = []
        on_component: list[Any] = []
        if set(self.states) != set(AlarmState):
            state = (Alarm.state + "") if newest_first else Alarm.state
            on_alarm.append(state.in_([s.value for s in self.states]))
        if self.kind is not None:
            on_alarm.append(Alarm.kind == self.kind.value)
        if self.substation is not None:
            on_component.append(Component.substation == self.substation)
        if self.component_type is not None:
            on_component.append(Component.component_type == self.component_type.value)
        if self.component_id is not None:
            on_alarm.append(Alarm.component_id == self.component_id)
        if self.start is not None:
            on_alarm.append(Alarm.raised_at_us >= to_micros(self.start))
        if self.end is not None:
            on_alarm.append(Alarm.raised_at_us < to_micros(self.end))
        if not self.include_shelved:
            moment = now or utc_now()
            on_alarm.append(not_shelved(moment))
        return on_alarm, on_component

    def query(
        self, now: datetime | None = None, *, newest_first: bool = False
    ) -> Select[Alarm, Component]:
        on_alarm, on_component = self._terms(now, newest_first=newest_first)
        joined = select(Alarm, Component).join(Component, Component.id == Alarm.component_id)
        return joined.where(*on_alarm, *on_component)

    def ordered(
        self, order: AlarmOrder = AlarmOrder.URGENCY, now: datetime | None = None
    ) -> Select[Alarm, Component]:
        if AlarmOrder(order) is AlarmOrder.NEWEST:
            newest = self.query(now, newest_first=True)
            return newest.order_by(Alarm.raised_at_us.desc(), Alarm.id.desc())
        active_first = case((Alarm.cleared_at_us.is_(None), 0), else_=1)
        severe_first = case((Alarm.severity == "alarm", 0), else_=1)
        return self.query(now).order_by(active_first, severe_first, Alarm.raised_at_us, Alarm.id)

    def count_query(self, now: datetime | None = None) -> Select[int]:
        """How many match, from the alarms alone unless a component filter needs the
        components (every alarm has its component: the foreign key)."""
        on_alarm, on_component = self._terms(now)
        query = select(func.count()).select_from(Alarm).where(*on_alarm)
        if on_component:
            query = query.join(Component, Component.id == Alarm.component_id)
        return query.where(*on_component)

    def count(self, session: Session, now: datetime | None = None) -> int:
        return int(session.scalar(self.count_query(now)) or 0)

    def page(
        self,
        session: Session,
        *,
        order: AlarmOrder = AlarmOrder.URGENCY,
        offset: int = 0,
        limit: int = 100,
        now: datetime | None = None,
    ) -> AlarmPage:
        """One page of the matching alarms in ``order``, and how many match in all."""
        check_page(offset, limit)
        moment = now or utc_now()
        total = self.count(session, moment)
        rows = session.execute(self.ordered(order, moment).offset(offset).limit(limit)).all()
        return AlarmPage([AlarmRecord.of(a, c) for a, c in rows], total)


def list_alarms(
    *,
    session: Session,
    states: tuple[AlarmState, ...] = OPEN,
    kind: AlarmKind | None = None,
    substation: str | None = None,
    component_type: ComponentType | None = None,
    component_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    include_shelved: bool = False,
    order: AlarmOrder = AlarmOrder.URGENCY,
    offset: int = 0,
    limit: int = 100,
    now: datetime | None = None,
) -> AlarmPage:
    """Alarms in ``states`` (open ones by default), active first, then alarms before warnings,
    then oldest first (or newest first); ``start``/``end`` keep those raised in [start, end).
    A shelved alarm is left out until its time is up unless ``include_shelved``."""
    check_page(offset, limit)
    chosen = AlarmFilter(
        states, kind, substation, component_type, component_id, start, end, include_shelved
    )
    return chosen.page(session, order=order, offset=offset, limit=limit, now=now)


def _alarm(session: Session, alarm_id: int) -> tuple[Alarm, Component]:
    found = session.get(Alarm, alarm_id) if alarm_id in ID_RANGE else None
    if found is None:
        raise UnknownAlarm(alarm_id)
    component = session.get(Component, found.component_id)
    assert component is not None  # a component's alarms go with it
    return found, component


def get_alarm(*, session: Session, alarm_id: int) -> AlarmRecord:
    """One alarm with every transition it went through, oldest first."""
    alarm, component = _alarm(session, alarm_id)
    events = tuple(
        AlarmEventRecord(e.event, e.from_state, e.to_state, e.at, e.by, e.comment)
        for e in session.scalars(
            select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)
        )
    )
    return AlarmRecord.of(alarm, component, events)


def _comment(raw: object, field: str, *, required: bool) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise InvalidInput.single(field, "is required: say why")
        return None
    try:
        return parse_text(raw, max_length=COMMENT_LENGTH)
    except FieldError as error:
        raise InvalidInput.single(field, str(error)) from None


def acknowledge_alarm(
    *, session: Session, actor: Actor, alarm_id: int, comment: object = None
) -> AlarmRecord:
    """An operator has seen the alarm: active unacknowledged -> active acknowledged, cleared
    unacknowledged -> closed. Audited, with the optional comment."""
    started = time.perf_counter()
    require_manager(actor, "acknowledge alarms")
    text = _comment(comment, "comment", required=False)
    alarm, _ = _alarm(session, alarm_id)
    transition(session, alarm, Event.ACKNOWLEDGE, by=actor.username, comment=text)
    session.flush()
    logs.on_commit(
        session, "alarm.acknowledge", user=actor.username, started=started, alarm_id=alarm_id,
        state=alarm.state,
    )  # fmt: skip
    return get_alarm(session=session, alarm_id=alarm_id)


def shelve_alarm(
    *,
    session: Session,
    actor: Actor,
    alarm_id: int,
    until: datetime,
    reason: object,
    now: datetime | None = None,
) -> AlarmRecord:
    """Hide an alarm from the lists until ``until`` (at most ``MAX_SHELVE`` ahead), for a
    reason everyone can read. Its state does not change; audited."""
    started = time.perf_counter()
    require_manager(actor, "shelve alarms")
    text = _comment(reason, "reason", required=True)
    moment = now or utc_now()
    if until.tzinfo is None:
        raise InvalidInput.single("until", "needs a time zone (an offset such as +00:00)")
    if until <= moment:
        raise InvalidInput.single("until", "must be in the future")
    if until - moment > MAX_SHELVE:
        raise InvalidInput.single(
            "until", f"may be at most {MAX_SHELVE.days} days ahead: shelve it again then"
        )
    alarm, _ = _alarm(session, alarm_id)
    alarm.shelved_until, alarm.shelve_reason = until, text  # before: the webhooks send them
    transition(session, alarm, Event.SHELVE, by=actor.username, comment=text)
    session.flush()
    logs.on_commit(
        session, "alarm.shelve", user=actor.username, started=started, alarm_id=alarm_id,
        until=until.isoformat(), reason=text,
    )  # fmt: skip
    return get_alarm(session=session, alarm_id=alarm_id)


def _picked(alarm_ids: Iterable[int]) -> list[int]:
    picked = list(dict.fromkeys(alarm_ids))
    if not picked:
        raise InvalidInput.single("alarms", "pick at least one alarm")
    return picked


def acknowledge_alarms(
    *, session: Session, actor: Actor, alarm_ids: Iterable[int], comment: object = None
) -> list[AlarmRecord]:
    """Acknowledge several alarms in the caller's transaction: the first one that may not be
    acknowledged raises, and the transaction's rollback leaves every one as it was."""
    require_manager(actor, "acknowledge alarms")
    return [
        acknowledge_alarm(session=session, actor=actor, alarm_id=alarm_id, comment=comment)
        for alarm_id in _picked(alarm_ids)
    ]


def shelve_alarms(
    *,
    session: Session,
    actor: Actor,
    alarm_ids: Iterable[int],
    until: datetime,
    reason: object,
    now: datetime | None = None,
) -> list[AlarmRecord]:
    """Shelve several alarms until ``until`` for one reason, all or none (as above)."""
    require_manager(actor, "shelve alarms")
    return [
        shelve_alarm(
            session=session, actor=actor, alarm_id=alarm_id, until=until, reason=reason, now=now
        )
        for alarm_id in _picked(alarm_ids)
    ]


def parse_kind(raw: object) -> AlarmKind:
    return choice_field("kind", raw, AlarmKind)


def not_shelved(moment: datetime) -> ColumnElement[bool]:
    """An alarm nobody has shelved, or whose shelving is over at ``moment``."""
    return or_(Alarm.shelved_until.is_(None), Alarm.shelved_until <= moment)


def in_alarm(moment: datetime) -> ColumnElement[bool]:
    """An active alarm that is not shelved at ``moment``: what drawings colour (the state
    index finds them)."""
    return and_(Alarm.state.in_([s.value for s in ACTIVE]), not_shelved(moment))


def worst(severity: str | None, other: str) -> str:
    """The worse of two severities: ``alarm`` over ``warning``."""
    return "alarm" if "alarm" in (severity, other) else other


def active_severities(
    session: Session, component_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, str]:
    """The worst severity (``alarm`` over ``warning``) of each of ``component_ids`` with an
    active alarm that is not shelved at ``now``: what a drawing colours them by."""
    ids = sorted(set(component_ids))
    rows = session.execute(
        select(Alarm.component_id, Alarm.severity).where(
            Alarm.component_id.in_(ids), in_alarm(now or utc_now())
        )
    )
    found: dict[int, str] = {}
    for component_id, severity in rows:
        found[component_id] = worst(found.get(component_id), severity)
    return found
