"""The ISA-18.2 lifecycle: acknowledge and shelve with their audit rows and role checks, the
transition table refusing what it does not allow, and communication lost on a frozen clock."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from core.alarms.engine import check_communication
from core.alarms.records import acknowledge_alarm, get_alarm, list_alarms, shelve_alarm
from core.alarms.states import TRANSITIONS, AlarmState, Event, IllegalTransition
from core.errors import InvalidInput, MissingPermission
from tests.alarms.support import T0, alarms, post
from tests.factories import MANAGER, USER, make_component


def _one_alarm(db):
    transformer = make_component(db)
    post(db, transformer.id, "voltage", [125.0])  # above 121: an alarm and a warning
    return next(a for a in alarms(db) if a.kind.value == "high_alarm"), transformer


def test_acknowledging_moves_the_state_and_leaves_an_audit_row(db, caplog):
    alarm, transformer = _one_alarm(db)
    with caplog.at_level(logging.INFO, logger="gridboard.audit"), db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=alarm.id, comment="crew sent")
    assert any(r.getMessage() == "alarm.acknowledge" for r in caplog.records)
    post(db, transformer.id, "voltage", [110.0], at=T0 + timedelta(minutes=1))
    with db.read() as session:
        closed = get_alarm(session=session, alarm_id=alarm.id)
    assert closed.state is AlarmState.CLOSED  # acknowledged, then cleared
    assert [(e.event, e.to_state, e.by, e.comment) for e in closed.events] == [
        ("raise", "active_unacknowledged", "system:alarms", None),
        ("acknowledge", "active_acknowledged", "mona", "crew sent"),
        ("clear", "closed", "system:alarms", None),
    ]
    refused = pytest.raises(IllegalTransition, match="is closed: it cannot take 'acknowledge'")
    with refused, db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=alarm.id)


def test_shelving_hides_an_alarm_until_its_time_with_a_reason(db):
    alarm, _ = _one_alarm(db)
    now = T0 + timedelta(hours=1)
    with db.write() as session:
        shelve_alarm(
            session=session, actor=MANAGER, alarm_id=alarm.id, until=now + timedelta(hours=2),
            reason="transformer in maintenance", now=now,
        )  # fmt: skip
    with db.read() as session:
        listed = {a.id for a in list_alarms(session=session, now=now).alarms}
        later = {a.id for a in list_alarms(session=session, now=now + timedelta(hours=3)).alarms}
        shelved = get_alarm(session=session, alarm_id=alarm.id)
    assert alarm.id not in listed and alarm.id in later
    assert shelved.shelve_reason == "transformer in maintenance"
    assert shelved.state is AlarmState.ACTIVE_UNACKNOWLEDGED
    assert shelved.events[-1].event == "shelve" and shelved.events[-1].by == "mona"


@pytest.mark.parametrize(
    ("until", "reason", "named"),
    [
        (timedelta(hours=-1), "x", "until: must be in the future"),
        (timedelta(days=8), "x", "until: may be at most 7 days ahead"),
        (timedelta(hours=1), "  ", "reason: is required"),
        (timedelta(hours=1), "x" * 1001, "reason: must be at most 1000 characters"),
        (timedelta(hours=1), "a\x1b[2Jb", "reason: must not contain control characters"),
    ],
)
def test_a_bad_shelving_is_named(db, until, reason, named):
    alarm, _ = _one_alarm(db)
    with pytest.raises(InvalidInput, match=named), db.write() as session:
        shelve_alarm(
            session=session, actor=MANAGER, alarm_id=alarm.id, until=T0 + until, reason=reason,
            now=T0,
        )  # fmt: skip


def test_a_user_may_neither_acknowledge_nor_shelve(db):
    alarm, _ = _one_alarm(db)
    with pytest.raises(MissingPermission), db.write() as session:
        acknowledge_alarm(session=session, actor=USER, alarm_id=alarm.id)
    with pytest.raises(MissingPermission), db.write() as session:
        shelve_alarm(
            session=session, actor=USER, alarm_id=alarm.id, until=T0 + timedelta(hours=1),
            reason="x", now=T0,
        )  # fmt: skip
    with db.read() as session:
        assert [e.event for e in get_alarm(session=session, alarm_id=alarm.id).events] == ["raise"]


def test_the_transition_table_is_isa_18_2():
    assert TRANSITIONS[(AlarmState.ACTIVE_UNACKNOWLEDGED, Event.CLEAR)] is (
        AlarmState.CLEARED_UNACKNOWLEDGED
    )
    assert TRANSITIONS[(AlarmState.CLEARED_UNACKNOWLEDGED, Event.ACKNOWLEDGE)] is AlarmState.CLOSED
    assert not [pair for pair in TRANSITIONS if pair[0] is AlarmState.CLOSED]


def test_communication_lost_after_an_hour_of_silence_and_back_when_it_reports(db):
    transformer = make_component(db)
    quiet_long_ago = make_component(db, name="T2")
    post(db, transformer.id, "voltage", [110.0, 110.0])  # last heard at T0 + 1 min
    post(db, quiet_long_ago.id, "voltage", [110.0], at=T0 - timedelta(days=2))
    with db.write() as session:
        check_communication(session, now=T0 + timedelta(minutes=60))
    assert alarms(db) == []
    with db.write() as session:
        check_communication(session, now=T0 + timedelta(minutes=61))
        check_communication(session, now=T0 + timedelta(minutes=62))  # once, not twice
    [lost] = alarms(db)
    assert (lost.component_id, lost.kind.value, lost.raised_at) == (
        transformer.id, "communication_lost", T0 + timedelta(minutes=61),
    )  # fmt: skip
    post(db, transformer.id, "voltage", [110.0], at=T0 + timedelta(minutes=90))
    [back] = alarms(db)
    assert (back.state.value, back.cleared_at) == (
        "cleared_unacknowledged", T0 + timedelta(minutes=90),
    )  # fmt: skip
