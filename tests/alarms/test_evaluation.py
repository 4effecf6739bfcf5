"""The one evaluation: deadband and delay on synthetic series, state carried across batches,
history imported later raising alarms in the past, idempotent re-evaluation, limit changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.alarms.engine import evaluate_history
from core.alarms.limit_changes import set_component_limits
from core.imports.measurements import import_measurements
from core.models import Alarm, AlarmEvent
from tests.alarms.support import T0, alarms, post
from tests.factories import MANAGER, make_component

HIGH_112 = [{"measurement_type": "voltage", "high_alarm": 112.0}]


def _limit(db, component_id, limits, **settings):
    with db.write() as session:
        set_component_limits(
            session=session, actor=MANAGER, component_id=component_id,
            limits=[item | settings for item in limits],
        )  # fmt: skip


def _spans(db):
    return [
        (a.raised_at - T0, a.cleared_at - T0 if a.cleared_at else None, a.worst_value)
        for a in sorted(alarms(db), key=lambda a: a.raised_at)
    ]


def minutes(n):
    return timedelta(minutes=n)


def test_an_alarm_clears_only_back_inside_by_the_deadband(db):
    transformer = make_component(db)
    _limit(db, transformer.id, HIGH_112, deadband_pct=1)  # clears below 110.88
    post(db, transformer.id, "voltage", [110, 113, 111.5, 111, 114, 110.8, 112.5])
    assert _spans(db) == [(minutes(1), minutes(5), 114.0), (minutes(6), None, 112.5)]


def test_an_alarm_raises_after_the_delay_even_across_single_posts(db):
    transformer = make_component(db)
    _limit(db, transformer.id, HIGH_112, delay_samples=3)
    # posted one by one: a run of three outside counts across posts, a run of two does not
    post(db, transformer.id, "voltage", [113, 113, 100, 113, 113, 114, 100])
    assert _spans(db) == [(minutes(5), minutes(6), 114.0)]


def test_an_alarm_raised_by_one_batch_clears_in_a_later_one(db):
    transformer = make_component(db)
    _limit(db, transformer.id, HIGH_112)
    post(db, transformer.id, "voltage", [113, 115])
    [raised] = alarms(db)
    assert raised.state.value == "active_unacknowledged"
    post(db, transformer.id, "voltage", [114, 100], at=T0 + minutes(2))
    [cleared] = alarms(db)
    assert (cleared.id, cleared.state.value) == (raised.id, "cleared_unacknowledged")
    assert (cleared.raised_at, cleared.cleared_at, cleared.worst_value) == (
        T0, T0 + minutes(3), 115.0,
    )  # fmt: skip


def _csv(component_id, values, start=T0):
    lines = ["component_id,measurement_type,timestamp,value"]
    for index, value in enumerate(values):
        lines.append(f"{component_id},voltage,{(start + minutes(index)).isoformat()},{value}")
    return "\n".join(lines).encode()


def _import(db, data):
    with db.write() as session:
        import_measurements(session=session, actor=MANAGER, source=data, file_name="m.csv")


def test_history_imported_later_raises_alarms_in_the_past_with_the_same_result(db):
    imported = make_component(db)
    posted = make_component(db, name="T2")
    series = [110, 125, 126, 100, 110, 98, 97.5, 110]
    _import(db, _csv(imported.id, series, start=T0 - timedelta(days=365)))
    post(db, posted.id, "voltage", series, at=T0 - timedelta(days=365))
    by_component = {
        c: [(a.kind.value, a.raised_at, a.cleared_at, a.worst_value, a.state.value)
            for a in alarms(db) if a.component_id == c]
        for c in (imported.id, posted.id)
    }  # fmt: skip
    assert by_component[imported.id] == by_component[posted.id]
    assert ("high_alarm", T0 - timedelta(days=365) + minutes(1),
            T0 - timedelta(days=365) + minutes(3), 126.0,
            "cleared_unacknowledged") in by_component[imported.id]  # fmt: skip
    # high alarm and warning; low warning twice (100, then 98 and 97.5), low alarm once
    assert len(by_component[imported.id]) == 5


def _counts(db):
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Alarm)),
            session.scalar(select(func.count()).select_from(AlarmEvent)),
        )


def test_re_evaluating_history_is_idempotent_and_finds_what_evaluation_was_off_for(db):
    transformer = make_component(db)
    _import(db, _csv(transformer.id, [110, 125, 100, 126, 126]))
    before = [(a.kind, a.raised_at, a.cleared_at, a.state) for a in alarms(db)]
    counted = _counts(db)
    for page_rows in (2, 100):
        with db.write() as session:
            evaluate_history(session, since=T0 - timedelta(days=1), page_rows=page_rows)
    assert [(a.kind, a.raised_at, a.cleared_at, a.state) for a in alarms(db)] == before
    assert _counts(db) == counted
    with db.write() as session:  # as if evaluation had been off: history derives the same
        session.execute(Alarm.__table__.delete())
        evaluate_history(session, since=T0 - timedelta(days=1), page_rows=2)
    assert [(a.kind, a.raised_at, a.cleared_at, a.state) for a in alarms(db)] == before


def test_raising_a_limit_clears_the_alarms_it_no_longer_holds(db):
    transformer = make_component(db)
    _limit(db, transformer.id, HIGH_112)
    post(db, transformer.id, "voltage", [113, 114, 113.5, 112.5])
    assert [a.state.value for a in alarms(db)] == ["active_unacknowledged"]
    # 112.5 is back inside 113.8 by more than its deadband (1.138): it clears there
    _limit(db, transformer.id, [{"measurement_type": "voltage", "high_alarm": 113.8}])
    [alarm] = alarms(db)
    assert (alarm.state.value, alarm.cleared_at) == ("cleared_unacknowledged", T0 + minutes(3))
    _limit(db, transformer.id, [{"measurement_type": "voltage", "no_limit": True}])
    post(db, transformer.id, "voltage", [150], at=T0 + minutes(4))
    assert len(alarms(db)) == 1
