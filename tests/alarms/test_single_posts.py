"""The single post's quick look gives what the one evaluation gives: the worst value of an alarm
in progress moves with each sample further out (highest, lowest, furthest from zero for a
loading), and a history pruned to the thresholds it can reach derives the same alarms."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.alarms.evaluation import CARRIED_SCHEMA, derive_excursions, reachable
from core.imports.measurements import import_measurements
from core.models import Alarm
from tests.alarms.support import T0, alarms, post
from tests.factories import MANAGER, make_component

SERIES = {
    # 40 MVA: loading warning above 36, alarm above 40, on |P|
    "power": [30, 41, -44, 42, -45.5, 43, 30, -38, -37, 20],
    # 110 kV: low warning below 104.5, low alarm below 99; high warning 115.5, alarm 121
    "voltage": [110, 100, 98, 97, 98.5, 96.5, 97.2, 110, 122, 125, 123.5, 126, 110],
}


def _csv(component_id: int, kind: str, values: list[float]) -> bytes:
    lines = ["component_id,measurement_type,timestamp,value"]
    for index, value in enumerate(values):
        at = (T0 + timedelta(minutes=index)).isoformat()
        lines.append(f"{component_id},{kind},{at},{value}")
    return "\n".join(lines).encode()


def _shown(db, component_id):
    return sorted(
        (a.kind.value, a.raised_at, a.cleared_at, a.worst_value, a.worst_at, a.state.value)
        for a in alarms(db)
        if a.component_id == component_id
    )


@pytest.mark.parametrize("kind", sorted(SERIES))
def test_posted_one_by_one_the_worst_values_are_those_of_the_same_samples_imported(db, kind):
    posted = make_component(db)
    imported = make_component(db, name="T2")
    post(db, posted.id, kind, SERIES[kind])
    with db.write() as session:
        import_measurements(
            session=session, actor=MANAGER, source=_csv(imported.id, kind, SERIES[kind]),
            file_name="m.csv",
        )  # fmt: skip
    shown = _shown(db, posted.id)
    assert shown == _shown(db, imported.id)
    worst = sorted((row[0], row[3]) for row in shown)
    if kind == "power":  # a second warning after the first excursion cleared
        assert worst == [("loading_alarm", -45.5), ("loading_warning", -45.5),
                         ("loading_warning", -38.0)]  # fmt: skip
    else:
        assert worst == [("high_alarm", 126.0), ("high_warning", 126.0), ("low_alarm", 96.5),
                         ("low_warning", 96.5)]  # fmt: skip


def test_a_sample_further_out_updates_the_alarms_time_of_change(db):
    transformer = make_component(db)
    post(db, transformer.id, "voltage", [110, 125])
    with db.read() as session:
        before = {a.kind: a.updated_at for a in session.scalars(select(Alarm))}
    post(db, transformer.id, "voltage", [124, 127], at=T0 + timedelta(minutes=2))
    with db.read() as session:
        after = {a.kind: (a.updated_at, a.worst_value) for a in session.scalars(select(Alarm))}
    assert after["high_alarm"][1] == 127.0
    assert after["high_alarm"][0] > before["high_alarm"]
    assert after["high_alarm"][0].tzinfo is not None


_LIMITS = pl.DataFrame(
    [
        (1, "voltage", "high_alarm", "alarm", 1, False, 10.0, 0.5, 1),
        (1, "voltage", "low_alarm", "alarm", -1, False, -10.0, 0.5, 2),
        (1, "power", "loading_alarm", "alarm", 1, True, 5.0, 0.1, 1),
        (2, "voltage", "high_warning", "warning", 1, False, 3.0, 0.0, 3),
    ],
    schema=["component_id", "measurement_type", "kind", "severity", "direction", "absolute",
            "limit", "deadband", "delay"],
    orient="row",
).cast({"direction": pl.Int8, "component_id": pl.Int64})  # fmt: skip
_KEYS = [(c, m, k) for c, m, k in _LIMITS.select("component_id", "measurement_type", "kind").rows()]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.sampled_from([(1, "voltage"), (1, "power"), (2, "voltage")]),
                  st.floats(-12, 12, allow_nan=False)),
        min_size=1, max_size=40,
    ),
    carried=st.lists(st.sampled_from(_KEYS), max_size=2, unique=True),
)  # fmt: skip
def test_the_thresholds_a_batch_cannot_reach_derive_nothing(values, carried):
    samples = pl.DataFrame(
        [(c, m, index, v) for index, ((c, m), v) in enumerate(values)],
        schema=["component_id", "measurement_type", "timestamp_us", "value"],
        orient="row",
    )
    active = pl.DataFrame(
        carried,
        schema={"component_id": pl.Int64, "measurement_type": pl.String, "kind": pl.String},
        orient="row",
    )
    carried_at = pl.DataFrame(
        [(c, m, k, -1) for c, m, k in carried], schema=CARRIED_SCHEMA, orient="row"
    )
    everything = derive_excursions(samples, _LIMITS, carried_at)
    pruned = reachable(samples, _LIMITS, active)
    assert derive_excursions(samples, pruned, carried_at).equals(everything)


def test_a_batch_inside_every_limit_with_nothing_active_reaches_no_threshold():
    samples = pl.DataFrame(
        {"component_id": [1, 1, 2], "measurement_type": ["voltage", "power", "voltage"],
         "timestamp_us": [1, 2, 3], "value": [9.9, -4.9, 2.9]},
    )  # fmt: skip
    nothing = pl.DataFrame(schema={"component_id": pl.Int64, "measurement_type": pl.String,
                                   "kind": pl.String})  # fmt: skip
    assert reachable(samples, _LIMITS, nothing).is_empty()
    outside = samples.with_columns(pl.Series("value", [9.9, -5.1, 2.9]))
    assert reachable(outside, _LIMITS, nothing).get_column("kind").to_list() == ["loading_alarm"]
