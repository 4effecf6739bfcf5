"""A replaced or deleted measurement re-evaluates its series' affected span in the same
transaction: the alarms then equal what `gridboard alarms evaluate` derives from scratch."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from core import logs
from core.alarms.engine import evaluate_history
from core.alarms.limit_changes import set_component_limits, set_defaults, set_level_limits
from core.alarms.records import acknowledge_alarm
from core.cli import main
from core.imports.measurements import import_measurements
from core.measurements.deletions import delete_measurement, delete_measurements
from core.measurements.measurements import add_measurement
from core.models import Alarm, Measurement
from core.timestamps import from_micros
from tests.alarms.support import T0, alarms, post
from tests.factories import LINE, MANAGER, make_component

SINCE = T0 - timedelta(days=1)


def minutes(n):
    return timedelta(minutes=n)


class _RolledBack(Exception):
    pass


def _rows(session):
    return sorted(
        (a.component_id, a.measurement_type, a.kind, a.severity, a.limit_value, a.raised_at_us,
         a.cleared_at_us, a.worst_value, a.worst_at_us, a.cleared_at_us is None)
        for a in session.scalars(select(Alarm).where(Alarm.kind != "communication_lost"))
    )  # fmt: skip


def from_scratch(db):
    """What evaluating all the stored measurements gives on a copy without alarms: the same
    transaction deletes every alarm, evaluates the history, reads, and rolls back."""
    found = []
    with pytest.raises(_RolledBack), db.write() as session:
        session.execute(delete(Alarm))
        evaluate_history(session, since=SINCE)
        session.flush()
        found = _rows(session)
        raise _RolledBack
    return found


def stored(db):
    with db.read() as session:
        return _rows(session)


def _spans(db):
    return [
        (a.kind.value, a.raised_at - T0, a.cleared_at - T0 if a.cleared_at else None,
         a.worst_value)
        for a in sorted(alarms(db), key=lambda a: (a.raised_at, a.kind.value))
    ]  # fmt: skip


def _high_112(db, component_id, **settings):
    with db.write() as session:
        set_component_limits(
            session=session, actor=MANAGER, component_id=component_id,
            limits=[{"measurement_type": "voltage", "high_alarm": 112.0} | settings],
        )  # fmt: skip


def _replace(db, component_id, minute, value):
    with db.write() as session:
        added = add_measurement(
            session=session, actor=MANAGER, component_id=component_id, measurement_type="voltage",
            timestamp=T0 + minutes(minute), value=value, overwrite=True,
        )  # fmt: skip
    assert added.overwritten == 1


def _measurement_id(db, component_id, minute):
    with db.read() as session:
        return session.scalar(
            select(Measurement.id).where(
                Measurement.component_id == component_id,
                Measurement.timestamp_us == int((T0 + minutes(minute)).timestamp() * 1_000_000),
            )
        )


def test_a_replaced_sample_lengthens_shortens_and_withdraws_an_alarm(db, caplog):
    transformer = make_component(db)
    _high_112(db, transformer.id)
    post(db, transformer.id, "voltage", [110, 125, 126, 100, 110, 100])
    assert _spans(db) == [("high_alarm", minutes(1), minutes(3), 126.0)]
    _replace(db, transformer.id, 3, 124)  # the clearing sample is now outside: it lasts longer
    assert _spans(db) == [("high_alarm", minutes(1), minutes(4), 126.0)]
    _replace(db, transformer.id, 2, 105)  # the worst sample is gone, and the run broken
    assert _spans(db) == [
        ("high_alarm", minutes(1), minutes(2), 125.0),
        ("high_alarm", minutes(3), minutes(4), 124.0),
    ]
    assert stored(db) == from_scratch(db)
    with caplog.at_level(logging.INFO, logger="gridboard.audit"):
        for minute in (1, 3):
            _replace(db, transformer.id, minute, 100)
    assert _spans(db) == []
    withdrawn = [
        getattr(r, logs.FIELDS) for r in caplog.records if r.getMessage() == "alarms.withdrawn"
    ]
    assert [(w["why"], len(w["alarm_ids"])) for w in withdrawn] == [
        ("measurement replaced", 1), ("measurement replaced", 1),
    ]  # fmt: skip
    assert stored(db) == from_scratch(db) == []


def test_a_cleared_alarm_whose_clear_is_replaced_is_active_again(db):
    transformer = make_component(db)
    _high_112(db, transformer.id)
    post(db, transformer.id, "voltage", [110, 125, 100])
    [before] = alarms(db)
    with db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=before.id)
    assert alarms(db)[0].state.value == "closed"
    _replace(db, transformer.id, 2, 130)
    [after] = alarms(db)
    assert (after.state.value, after.raised_at, after.cleared_at, after.worst_value) == (
        "active_unacknowledged", T0 + minutes(1), None, 130.0,
    )  # fmt: skip
    assert stored(db) == from_scratch(db)


def test_an_acknowledged_alarm_keeps_its_row_when_its_data_changes_within_it(db):
    transformer = make_component(db)
    _high_112(db, transformer.id)
    post(db, transformer.id, "voltage", [110, 125, 126, 127])
    [before] = alarms(db)
    with db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=before.id, comment="seen")
    _replace(db, transformer.id, 3, 100)
    [after] = alarms(db)
    assert (after.id, after.state.value, after.cleared_at) == (
        before.id, "closed", T0 + minutes(3),
    )  # fmt: skip
    assert stored(db) == from_scratch(db)


def test_deleting_one_sample_or_a_range_re_evaluates(db):
    transformer = make_component(db)
    _high_112(db, transformer.id)
    post(db, transformer.id, "voltage", [110, 125, 100, 126, 127, 100, 110])
    assert _spans(db) == [
        ("high_alarm", minutes(1), minutes(2), 125.0),
        ("high_alarm", minutes(3), minutes(5), 127.0),
    ]
    with db.write() as session:  # the sample between the two excursions: they are one
        delete_measurement(
            session=session, actor=MANAGER, measurement_id=_measurement_id(db, transformer.id, 2)
        )
    assert _spans(db) == [("high_alarm", minutes(1), minutes(5), 127.0)]
    assert stored(db) == from_scratch(db)
    with db.write() as session:  # the whole excursion: no alarm is left
        deleted = delete_measurements(
            session=session, actor=MANAGER, component_id=transformer.id, measurement_type="voltage",
            start=T0 + minutes(1), end=T0 + minutes(5),
        )  # fmt: skip
    assert deleted == 3
    assert _spans(db) == [] == from_scratch(db)


def _csv(component_id, samples):
    lines = ["component_id,measurement_type,timestamp,value"]
    lines += [f"{component_id},voltage,{(T0 + minutes(m)).isoformat()},{v}" for m, v in samples]
    return "\n".join(lines).encode()


def _import(db, data, **options):
    with db.write() as session:
        return import_measurements(
            session=session, actor=MANAGER, source=data, file_name="m.csv", **options
        )


def test_an_import_that_overwrites_or_falls_among_stored_samples_re_evaluates(db):
    transformer = make_component(db)
    _high_112(db, transformer.id)
    _import(db, _csv(transformer.id, [(0, 110), (1, 125), (3, 126), (5, 127), (7, 100)]))
    assert _spans(db) == [("high_alarm", minutes(1), minutes(7), 127.0)]
    # samples between the stored ones (none replaced): the excursion splits in three
    summary = _import(db, _csv(transformer.id, [(2, 100), (4, 100), (6, 100)]))
    assert (summary.inserted, summary.skipped) == (3, 0)
    assert _spans(db) == [
        ("high_alarm", minutes(1), minutes(2), 125.0),
        ("high_alarm", minutes(3), minutes(4), 126.0),
        ("high_alarm", minutes(5), minutes(6), 127.0),
    ]
    assert stored(db) == from_scratch(db)
    # a file replacing stored values, and adding one after them
    summary = _import(
        db, _csv(transformer.id, [(2, 130), (4, 100), (5, 100), (8, 113)]), overwrite=True
    )
    assert (summary.inserted, summary.overwritten) == (1, 3)
    assert _spans(db) == [("high_alarm", minutes(1), minutes(4), 130.0),
                          ("high_alarm", minutes(8), None, 113.0)]  # fmt: skip
    assert stored(db) == from_scratch(db)
    # without overwrite the stored values stand: nothing changes
    _import(db, _csv(transformer.id, [(2, 100), (3, 100)]))
    assert stored(db) == from_scratch(db)
    assert len(_spans(db)) == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_replacements_and_deletions_leave_the_alarms_as_from_scratch(db, seed):
    """Warnings and alarms with a deadband and a delay of two samples, on two series: after
    each random change (a replaced value, an inserted one, one or a range deleted, a file of
    both series falling among and over stored samples) the stored alarms are exactly those of
    evaluating everything from scratch."""
    chance = random.Random(seed)
    line = make_component(db, LINE, rated_current_a=400)
    with db.write() as session:
        set_component_limits(
            session=session, actor=MANAGER, component_id=line.id,
            limits=[{"measurement_type": "voltage", "high_alarm": 22.0, "high_warning": 21.0,
                     "low_warning": 19.0, "low_alarm": 18.0, "deadband_pct": 2,
                     "delay_samples": 2}],
        )  # fmt: skip
    values = [chance.choice([17.5, 18.5, 20.0, 20.0, 21.5, 22.5]) for _ in range(40)]
    _import(db, "\n".join(
        ["component_id,measurement_type,timestamp,value"]
        + [f"{line.id},voltage,{(T0 + minutes(i)).isoformat()},{v}" for i, v in enumerate(values)]
        + [f"{line.id},current,{(T0 + minutes(i)).isoformat()},{chance.choice([100, 395, 420])}"
           for i in range(40)]
    ).encode())  # fmt: skip
    assert stored(db) == from_scratch(db) != []
    for _ in range(12):
        minute = chance.randrange(45)
        action = chance.choice(["replace", "delete", "range", "import"])
        if action == "import":  # both series' spans re-evaluated together
            at = [T0 + minutes(chance.randrange(45)) + timedelta(seconds=chance.choice([0, 30]))
                  for _ in range(4)]  # fmt: skip
            rows = {(kind, moment): chance.choice(choices)
                    for kind, choices in (("voltage", [17.5, 18.5, 20.0, 21.5, 22.5]),
                                          ("current", [100, 395, 420]))
                    for moment in at}  # fmt: skip
            _import(db, "\n".join(
                ["component_id,measurement_type,timestamp,value"]
                + [f"{line.id},{kind},{at.isoformat()},{v}" for (kind, at), v in rows.items()]
            ).encode(), overwrite=True)  # fmt: skip
            assert stored(db) == from_scratch(db), (action, at)
            continue
        with db.write() as session:
            if action == "replace":
                add_measurement(
                    session=session, actor=MANAGER, component_id=line.id,
                    measurement_type="voltage", timestamp=T0 + minutes(minute),
                    value=chance.choice([17.5, 18.5, 20.0, 21.5, 22.5]), overwrite=True,
                )  # fmt: skip
            elif action == "delete":
                found = _measurement_id(db, line.id, minute)
                if found is not None:
                    delete_measurement(session=session, actor=MANAGER, measurement_id=found)
            else:
                delete_measurements(
                    session=session, actor=MANAGER, component_id=line.id,
                    measurement_type=chance.choice(["voltage", "current"]),
                    start=T0 + minutes(minute), end=T0 + minutes(minute + chance.randrange(1, 6)),
                )  # fmt: skip
        assert stored(db) == from_scratch(db), (action, minute)


def test_alarms_evaluate_from_scratch_on_the_command_line_finds_the_same(db):
    transformer = make_component(db)
    _high_112(db, transformer.id)
    post(db, transformer.id, "voltage", [110, 125, 126, 100, 120, 100])
    _replace(db, transformer.id, 3, 119)
    kept = stored(db)
    with db.write() as session:
        session.execute(delete(Alarm))
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "alarms", "evaluate", "--since", "2024-02-29"]) == 0
    assert stored(db) == kept
    assert [from_micros(row[5]) - T0 for row in kept] == [minutes(1)]


def test_each_kind_of_limit_change_re_evaluates_active_alarms(db):
    transformer = make_component(db)
    post(db, transformer.id, "voltage", [110, 118, 117])  # above the 115.5 warning of 110 kV
    assert [(a.kind.value, a.state.value) for a in alarms(db)] == [
        ("high_warning", "active_unacknowledged")
    ]
    with db.write() as session:  # an 8 % band: 118.8; 117 is back inside by the deadband
        set_defaults(session=session, actor=MANAGER, values={"voltage_warning_pct": 8})
    [warning] = alarms(db)
    assert (warning.state.value, warning.cleared_at) == ("cleared_unacknowledged", T0 + minutes(2))
    post(db, transformer.id, "voltage", [119], at=T0 + minutes(3))  # above 118.8: a new one
    assert [a.state.value for a in alarms(db)].count("active_unacknowledged") == 1
    with db.write() as session:
        set_level_limits(
            session=session, actor=MANAGER, component_type="transformer", voltage_kv=110,
            limits=[{"measurement_type": "voltage", "high_warning": 125.0}],
        )  # fmt: skip
    assert [(a.state.value, a.cleared_at) for a in alarms(db)] == [
        ("cleared_unacknowledged", T0 + minutes(2)),
        ("cleared_unacknowledged", T0 + minutes(3)),
    ]
