"""The alarm lifecycle (ISA-18.2 / IEC 62682) as data: its states, the events that move an alarm
between them, one ``transition`` applying them with a row. See docs/design.md#limits-and-alarms."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from core.errors import GridBoardError
from core.models import Alarm, AlarmEvent, utc_now
from core.notifications import outbox


class AlarmState(StrEnum):
    ACTIVE_UNACKNOWLEDGED = "active_unacknowledged"
    ACTIVE_ACKNOWLEDGED = "active_acknowledged"
    CLEARED_UNACKNOWLEDGED = "cleared_unacknowledged"
    CLOSED = "closed"


class Event(StrEnum):
    RAISE = "raise"
    ACKNOWLEDGE = "acknowledge"
    CLEAR = "clear"
    SHELVE = "shelve"


A, K, C, X = (
    AlarmState.ACTIVE_UNACKNOWLEDGED,
    AlarmState.ACTIVE_ACKNOWLEDGED,
    AlarmState.CLEARED_UNACKNOWLEDGED,
    AlarmState.CLOSED,
)
# (state before, event) -> state after; a pair not here is refused. ``None`` is "no alarm yet".
# Shelving hides an alarm for a time (``shelved_until``) without changing its state.
TRANSITIONS: dict[tuple[AlarmState | None, Event], AlarmState] = {
    (None, Event.RAISE): A,
    (A, Event.ACKNOWLEDGE): K,
    (A, Event.CLEAR): C,
    (K, Event.CLEAR): X,
    (C, Event.ACKNOWLEDGE): X,
    (A, Event.SHELVE): A,
    (K, Event.SHELVE): K,
    (C, Event.SHELVE): C,
}
ACTIVE = (A, K)
# What needs an operator: active ones, and cleared ones nobody has acknowledged yet.
OPEN = (A, K, C)


class IllegalTransition(GridBoardError):
    """An event that the alarm's state does not allow (acknowledging a closed alarm, say)."""

    def __init__(self, alarm_id: int, state: AlarmState, event: Event) -> None:
        self.alarm_id = alarm_id
        self.state = state
        self.event = event
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s is state)
        super().__init__(
            f"alarm {alarm_id} is {state.value.replace('_', ' ')}: it cannot take "
            f"{event.value!r} (it can take: {', '.join(allowed) or 'nothing, it is closed'})"
        )


def transition(
    session: Session,
    alarm: Alarm,
    event: Event,
    *,
    by: str,
    comment: str | None = None,
    at: datetime | None = None,
) -> AlarmEvent:
    """Apply ``event`` to ``alarm`` (a new one, ``state`` unset, takes ``raise``), add the
    audit row and queue it for the webhooks (so set what the event changes first); refuse an
    event its state does not allow with ``IllegalTransition``."""
    before = _move(alarm, event)
    if alarm.id is None:
        session.add(alarm)
        session.flush()
    return _record(session, alarm, event, before, by=by, comment=comment, at=at)


def raise_all(session: Session, alarms: list[Alarm], *, by: str) -> None:
    """``transition(session, alarm, Event.RAISE, by=by)`` for each of ``alarms`` (new ones), in
    their order, with their rows inserted in one flush rather than one flush each."""
    for alarm in alarms:
        _move(alarm, Event.RAISE)
    session.add_all(alarms)
    session.flush()
    for alarm in alarms:
        _record(session, alarm, Event.RAISE, None, by=by)


def _move(alarm: Alarm, event: Event) -> AlarmState | None:
    """Set the state ``event`` moves ``alarm`` to; the state it had."""
    before = AlarmState(alarm.state) if alarm.state else None
    after = TRANSITIONS.get((before, event))
    if after is None:
        raise IllegalTransition(alarm.id, before or A, event)
    alarm.state = after.value
    return before


def _record(
    session: Session,
    alarm: Alarm,
    event: Event,
    before: AlarmState | None,
    *,
    by: str,
    comment: str | None = None,
    at: datetime | None = None,
) -> AlarmEvent:
    row = AlarmEvent(
        alarm_id=alarm.id,
        event=event.value,
        from_state=before.value if before else None,
        to_state=alarm.state,
        at=at or utc_now(),
        by=by,
        comment=comment,
    )
    session.add(row)
    outbox.queue(session, alarm, row)  # each webhook's delivery commits with the transition
    return row
