"""What the pages show of alarms: the counts and newest alarms, the network's colours, a
component's limits and alarms, and the alarm a link opens; on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.alarms.limits import replace_overrides, validate_override
from core.alarms.records import UnknownAlarm, acknowledge_alarm, active_severities, shelve_alarm
from core.alarms.summary import (
    LimitInForce,
    alarm_window,
    component_alarm,
    component_alarms,
    limits_in_force,
    network_alarms,
    read_summary,
    unacknowledged_count,
)
from core.domain import MeasurementType
from core.errors import InvalidInput
from tests.alarms.support import T0, alarms, post
from tests.factories import LINE, MANAGER, make_component

SHELVED_UNTIL = T0 + timedelta(days=2)
NOW = T0 + timedelta(days=1)


def _alarm(db, component, kind):
    return next(a for a in alarms(db, component_id=component.id) if a.kind.value == kind)


def _watched_grid(db):
    """T1 in alarm (acknowledged) and warning, L1 in warning, T2's alarm shelved and its
    warning not, T3's alarm and warning cleared before anyone acknowledged them."""
    t1 = make_component(db, name="T1", substation="Riverside")
    l1 = make_component(db, LINE, substation="Riverside", to_substation="Hilltop")
    t2 = make_component(db, name="T2", substation="Hilltop")
    t3 = make_component(db, name="T3", substation="Lakeside")
    post(db, t1.id, "voltage", [125.0])  # above 121 kV: alarm, above 115.5: warning
    post(db, l1.id, "voltage", [21.4], at=T0 + timedelta(minutes=10))  # above 21: warning
    post(db, t2.id, "voltage", [125.0], at=T0 + timedelta(minutes=20))
    post(db, t3.id, "voltage", [125.0, 110.0], at=T0 + timedelta(minutes=30))
    with db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=_alarm(db, t1, "high_alarm").id)
        shelve_alarm(
            session=session, actor=MANAGER, alarm_id=_alarm(db, t2, "high_alarm").id,
            until=SHELVED_UNTIL, reason="crew on site", now=NOW,
        )  # fmt: skip
    return t1, l1, t2, t3


def test_the_summary_counts_by_severity_shelved_apart_and_lists_the_newest(db):
    _watched_grid(db)
    with db.read() as session:
        summary = read_summary(session=session, newest=3, now=NOW)
        count = unacknowledged_count(session=session, now=NOW)
    assert (summary.alarms, summary.warnings, summary.shelved) == (1, 3, 1)
    # T1's, L1's and T2's warnings, T3's cleared alarm and warning; not T2's shelved alarm.
    assert summary.unacknowledged == count == 5
    newest = [(a.component_name, a.kind.value, a.state.value) for a in summary.newest]
    assert sorted(newest[:2]) == [
        ("T3", "high_alarm", "cleared_unacknowledged"),
        ("T3", "high_warning", "cleared_unacknowledged"),
    ]
    assert newest[2] == ("T2", "high_warning", "active_unacknowledged")


def test_a_shelved_alarm_counts_again_when_its_shelving_is_over(db):
    _watched_grid(db)
    later = SHELVED_UNTIL + timedelta(seconds=1)
    with db.read() as session:
        summary = read_summary(session=session, now=later)
        count = unacknowledged_count(session=session, now=later)
    assert (summary.alarms, summary.warnings, summary.shelved) == (2, 3, 0)
    assert summary.unacknowledged == count == 6


def test_nothing_to_count_on_a_quiet_grid(db):
    make_component(db)
    post(db, make_component(db, name="T9").id, "voltage", [110.0])
    with db.read() as session:
        summary = read_summary(session=session)
        assert unacknowledged_count(session=session) == 0
    assert (summary.alarms, summary.warnings, summary.shelved, summary.newest) == (0, 0, 0, [])


def test_the_network_colours_a_substation_by_its_worst_component_and_a_line_by_its_own(db):
    t1, l1, t2, t3 = _watched_grid(db)
    with db.read() as session:
        found = network_alarms(session=session, now=NOW)
        diagram = active_severities(session, [t1.id, l1.id, t2.id, t3.id], now=NOW)
    assert found.substations == {"Riverside": "alarm", "Hilltop": "warning"}  # not Lakeside
    assert found.lines == {l1.id: "warning"}
    assert diagram == {t1.id: "alarm", l1.id: "warning", t2.id: "warning"}  # the same rule


def test_a_components_limits_in_force_follow_its_override(db):
    t1 = make_component(db)  # 110 kV, 40 MVA
    with db.read() as session:
        defaults = limits_in_force(session=session, component_id=t1.id)
    voltage = {
        (x.kind, x.severity, x.direction): x.value for x in defaults[MeasurementType.VOLTAGE]
    }
    assert voltage == pytest.approx(
        {
            ("high_alarm", "alarm", 1): 121.0,
            ("high_warning", "warning", 1): 115.5,
            ("low_warning", "warning", -1): 104.5,
            ("low_alarm", "alarm", -1): 99.0,
        }
    )
    power = defaults[MeasurementType.POWER]
    assert {(x.kind, round(x.value, 9), x.absolute) for x in power} == {
        ("loading_alarm", 40.0, True),
        ("loading_warning", 36.0, True),
    }
    with db.write() as session:
        override = validate_override({"measurement_type": "voltage", "high_alarm": 130})
        replace_overrides(session, [override], by="mona", component_id=t1.id)
    with db.read() as session:
        overridden = limits_in_force(session=session, component_id=t1.id)
    assert overridden[MeasurementType.VOLTAGE] == [
        LimitInForce("high_alarm", "alarm", 1, False, 130)
    ]


def test_a_components_alarms_newest_first_with_its_totals(db):
    t1, _l1, _t2, t3 = _watched_grid(db)
    post(db, t1.id, "voltage", [110.0, 100.0], at=T0 + timedelta(hours=1))  # clears, then low
    with db.read() as session:
        page = component_alarms(session=session, component_id=t1.id)
        first = component_alarms(session=session, component_id=t1.id, limit=1)
        other = component_alarms(session=session, component_id=t3.id)
    assert (page.total, page.active) == (3, 1)
    listed = [(a.kind.value, a.state.value) for a in page.alarms]
    assert listed[0] == ("low_warning", "active_unacknowledged")  # raised last
    assert sorted(listed[1:]) == [
        ("high_alarm", "closed"),
        ("high_warning", "cleared_unacknowledged"),
    ]
    assert [a.id for a in first.alarms] == [page.alarms[0].id] and first.total == 3
    assert (other.total, other.active) == (2, 0)


def test_a_link_names_an_alarm_of_its_component_or_is_refused(db):
    t1, l1, *_ = _watched_grid(db)
    mine = _alarm(db, t1, "high_alarm")
    with db.read() as session:
        found = component_alarm(session=session, component_id=t1.id, alarm_id=mine.id)
        assert (found.id, found.kind, found.state.value) == (
            mine.id,
            mine.kind,
            "active_acknowledged",
        )
        with pytest.raises(InvalidInput) as refused:
            component_alarm(session=session, component_id=l1.id, alarm_id=mine.id)
        with pytest.raises(UnknownAlarm):
            component_alarm(session=session, component_id=t1.id, alarm_id=mine.id + 1000)
    (problem,) = refused.value.problems
    assert problem.field == "alarm"
    assert (
        problem.reason == f"alarm {mine.id} is not one of this component's: it is T1's in Riverside"
    )


def test_the_window_around_an_alarm(db):
    t1 = make_component(db)
    post(db, t1.id, "voltage", [125.0] * 4 * 60 + [110.0])  # four hours high, then back
    long = _alarm(db, t1, "high_alarm")
    assert (long.raised_at, long.cleared_at) == (T0, T0 + timedelta(hours=4))
    assert alarm_window(long) == (T0 - timedelta(hours=2), T0 + timedelta(hours=6))
    t2 = make_component(db, name="T2")
    post(db, t2.id, "voltage", [125.0])
    active = _alarm(db, t2, "high_alarm")
    latest = T0 + timedelta(minutes=30)
    assert alarm_window(active, latest) == (T0 - timedelta(hours=1), latest + timedelta(hours=1))
