"""The rollups that reports read agree with raw measurements after every kind of write."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import func, select, update

from core.grid.components import delete_component, update_component
from core.measurements import rollups
from core.measurements.measurement_store import write_measurements
from core.measurements.measurements import add_measurement
from core.models import Component, MeasurementRollup
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component

T0 = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * 1_000_000
MINUTE = 60 * 1_000_000


def _frame(component_id, values, *, kind="power", start=T0, step=5 * MINUTE):
    return pl.DataFrame(
        {
            "component_id": [component_id] * len(values),
            "measurement_type": [kind] * len(values),
            "timestamp_us": [start + i * step for i in range(len(values))],
            "value": [float(v) for v in values],
        }
    )


def _write(db, frame, overwrite=False):
    with db.write() as session:
        return write_measurements(session, frame, overwrite=overwrite)


def _assert_agree(db):
    with db.read() as session:
        diff = rollups.differences(session)
    assert diff.is_empty(), diff


def _stored(db):
    with db.read() as session:
        rows = session.execute(
            select(
                MeasurementRollup.component_type,
                MeasurementRollup.measurement_type,
                MeasurementRollup.bucket_us,
                MeasurementRollup.sample_count,
                MeasurementRollup.value_sum,
                MeasurementRollup.value_min,
                MeasurementRollup.value_max,
            ).order_by(
                MeasurementRollup.component_type,
                MeasurementRollup.measurement_type,
                MeasurementRollup.bucket_us,
            )
        ).all()
    return [tuple(row) for row in rows]


def test_insert_builds_quarter_hour_buckets(db):
    line = make_component(db, LINE)
    _write(db, _frame(line.id, [1, 2, 3, 4]))  # 00:00, 00:05, 00:10 | 00:15
    assert _stored(db) == [
        ("line", "power", T0, 3, 6.0, 1.0, 3.0),
        ("line", "power", T0 + 15 * MINUTE, 1, 4.0, 4.0, 4.0),
    ]
    _assert_agree(db)


def test_skipped_duplicates_change_nothing(db):
    line = make_component(db, LINE)
    _write(db, _frame(line.id, [1, 2, 3]))
    before = _stored(db)
    assert _write(db, _frame(line.id, [9, 9, 9])).skipped == 3
    assert _stored(db) == before


@pytest.mark.parametrize("new_values", [[0, 2, 3], [1, 2, 0.5], [10, 2, 3], [1, 2, 2.5]])
def test_overwrite_moves_extremes_both_ways(db, new_values):
    line = make_component(db, LINE)
    _write(db, _frame(line.id, [1, 2, 3]))
    _write(db, _frame(line.id, new_values), overwrite=True)
    (row,) = _stored(db)
    assert row[3:] == (3, float(sum(new_values)), float(min(new_values)), float(max(new_values)))
    _assert_agree(db)


def test_single_add_and_overwrite(db):
    switch = make_component(db, SWITCH)
    for value in (5, 7):
        with db.write() as session:
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=switch.id,
                measurement_type="current",
                timestamp="2024-03-01T00:00:00Z",
                value=value,
                overwrite=True,
            )
    assert _stored(db) == [("switch", "current", T0, 1, 7.0, 7.0, 7.0)]


def test_single_adds_fold_into_their_buckets_before_and_after_1970(db):
    """add_measurement's single-row path keeps the rollups as exact as the bulk path."""
    switch = make_component(db, SWITCH)
    stamps = ["2024-03-01T00:00:00Z", "2024-03-01T00:14:59Z", "2024-03-01T00:15:00Z",
              "1969-12-31T23:59:59Z", "1969-12-31T23:45:00Z"]  # fmt: skip
    for number, stamp in enumerate(stamps):
        with db.write() as session:
            add_measurement(
                session=session, actor=MANAGER, component_id=switch.id,
                measurement_type="current", timestamp=stamp, value=float(number + 1),
            )  # fmt: skip
    stored = _stored(db)
    assert [row[2:] for row in stored] == [
        (-900_000_000, 2, 9.0, 4.0, 5.0),
        (T0, 2, 3.0, 1.0, 2.0),
        (T0 + 900_000_000, 1, 3.0, 3.0, 3.0),
    ]
    _assert_agree(db)


def test_a_single_add_lands_in_its_components_voltage_level(db):
    """The single-row path keys the rollup by the component's level, as a rebuild does."""
    transformer = make_component(db, TRANSFORMER)
    with db.write() as session:
        add_measurement(
            session=session, actor=MANAGER, component_id=transformer.id,
            measurement_type="voltage", timestamp="2024-03-01T00:05:00Z", value=110.5,
        )  # fmt: skip
    with db.read() as session:
        levels = session.scalars(select(MeasurementRollup.voltage_kv)).all()
    assert levels == [transformer.voltage_kv]
    _assert_agree(db)


def test_type_change_moves_measurements_to_the_new_type(db):
    first = make_component(db, TRANSFORMER)
    second = make_component(db, TRANSFORMER, name="T2")
    _write(db, _frame(first.id, [1, 50, 3]))
    _write(db, _frame(second.id, [2, 4, 6]))
    with db.write() as session:
        update_component(session=session, actor=MANAGER, component_id=first.id, fields=LINE)
    assert _stored(db) == [
        ("line", "power", T0, 3, 54.0, 1.0, 50.0),
        ("transformer", "power", T0, 3, 12.0, 2.0, 6.0),
    ]
    _assert_agree(db)


def _levels(db):
    with db.read() as session:
        return session.execute(
            select(
                MeasurementRollup.component_type,
                MeasurementRollup.voltage_kv,
                func.sum(MeasurementRollup.sample_count),
                func.sum(MeasurementRollup.value_sum),
            )
            .group_by(MeasurementRollup.component_type, MeasurementRollup.voltage_kv)
            .order_by(MeasurementRollup.component_type, MeasurementRollup.voltage_kv)
        ).all()


def test_voltage_change_moves_measurements_to_the_new_level(db):
    first = make_component(db, TRANSFORMER, voltage_kv=20)
    second = make_component(db, TRANSFORMER, name="T2", voltage_kv=20)
    switch = make_component(db, SWITCH, name="S1")
    _write(db, _frame(first.id, [1, 50, 3]))
    _write(db, _frame(second.id, [2, 4, 6]))
    _write(db, _frame(switch.id, [7]))
    assert _levels(db) == [("switch", 0.0, 1, 7.0), ("transformer", 20.0, 6, 66.0)]
    with db.write() as session:
        update_component(
            session=session,
            actor=MANAGER,
            component_id=first.id,
            fields={**TRANSFORMER, "voltage_kv": 110},
        )
    assert _levels(db) == [
        ("switch", 0.0, 1, 7.0),
        ("transformer", 20.0, 3, 12.0),
        ("transformer", 110.0, 3, 54.0),
    ]
    _assert_agree(db)
    with db.write() as session:  # a switch that becomes a line takes on the line's level
        update_component(
            session=session, actor=MANAGER, component_id=switch.id, fields={**LINE, "name": "S1"}
        )
    assert ("line", float(LINE["voltage_kv"]), 1, 7.0) in _levels(db)
    _assert_agree(db)


def test_deleting_a_component_removes_its_share(db):
    kept = make_component(db, LINE)
    gone = make_component(db, LINE, name="L2")
    _write(db, _frame(kept.id, [2, 3]))
    _write(db, _frame(gone.id, [-100, 100]))
    with db.write() as session:
        delete_component(session=session, actor=MANAGER, component_id=gone.id)
    assert _stored(db) == [("line", "power", T0, 2, 5.0, 2.0, 3.0)]
    with db.write() as session:
        delete_component(session=session, actor=MANAGER, component_id=kept.id)
    assert _stored(db) == []


def test_rebuild_repairs_damaged_rollups(db):
    line = make_component(db, LINE)
    _write(db, _frame(line.id, list(range(100))))
    with db.write() as session:
        session.execute(update(MeasurementRollup).values(value_sum=0, sample_count=1))
    with db.read() as session:
        assert not rollups.differences(session).is_empty()
    with db.write() as session:
        assert rollups.rebuild(session) == 34  # 100 five-minute samples: 34 quarter hours
    _assert_agree(db)


def test_random_writes_keep_rollups_exact(db):
    """A random mix of every kind of write, checked against raw data after each step."""
    rng = random.Random(7)
    components = [
        make_component(db, base, name=f"C{i}")
        for i, base in enumerate([TRANSFORMER, LINE, SWITCH, LINE])
    ]
    alive = {c.id for c in components}
    for step in range(25):
        action = rng.choice(["write", "write", "overwrite", "retype", "relevel", "delete"])
        ids = sorted(alive)
        if not ids:
            break
        target = rng.choice(ids)
        if action in {"write", "overwrite"}:
            values = [rng.uniform(-50, 50) for _ in range(rng.randint(1, 40))]
            start = T0 + rng.randint(-20, 20) * 5 * MINUTE
            kind = rng.choice(["voltage", "current", "power"])
            _write(
                db, _frame(target, values, kind=kind, start=start), overwrite=action == "overwrite"
            )
        elif action == "retype":
            base = rng.choice([TRANSFORMER, LINE, SWITCH])
            with db.write() as session:
                update_component(
                    session=session,
                    actor=MANAGER,
                    component_id=target,
                    fields={**base, "name": f"C{target}-{step}"},
                )
        elif action == "relevel":
            with db.write() as session:
                kind = session.get(Component, target).component_type
                base = {"transformer": TRANSFORMER, "line": LINE, "switch": SWITCH}[kind]
                update_component(
                    session=session,
                    actor=MANAGER,
                    component_id=target,
                    fields={
                        **base,
                        "name": f"C{target}-{step}",
                        **({"voltage_kv": rng.choice([0.4, 20, 110])} if kind != "switch" else {}),
                    },
                )
        elif len(alive) > 1:
            with db.write() as session:
                delete_component(session=session, actor=MANAGER, component_id=target)
            alive.discard(target)
        _assert_agree(db)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(MeasurementRollup)) > 0
