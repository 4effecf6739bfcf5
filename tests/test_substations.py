"""One substation: its components with latest values, its connections, its recent series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from core.domain import ComponentType, MeasurementType
from core.errors import UnknownSubstation
from core.grid.components import list_substations
from core.grid.substation_records import substation_for
from core.grid.substations import read_substation, substation_series
from core.measurements.measurement_store import write_measurements
from core.timestamps import to_micros
from tests.factories import LINE, SWITCH, TRANSFORMER, make_component

NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


def measure(db, component_id, kind, *points):
    frame = pl.DataFrame(
        {
            "component_id": [component_id] * len(points),
            "measurement_type": [kind] * len(points),
            "timestamp_us": [to_micros(moment) for moment, _value in points],
            "value": [value for _moment, value in points],
        }
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)


def read(db, name):
    with db.read() as session:
        return read_substation(session=session, name=name)


def test_components_come_by_type_with_their_latest_values(db):
    line = make_component(db, LINE, name="L1", to_substation="Hilltop")
    transformer = make_component(db, TRANSFORMER, name="T1")
    make_component(db, SWITCH, name="S1")
    make_component(db, TRANSFORMER, name="T9", substation="Elsewhere")
    measure(db, transformer.id, "voltage", (NOW - timedelta(hours=1), 109.0), (NOW, 110.5))
    measure(db, transformer.id, "power", (NOW - timedelta(hours=2), 12.0))
    measure(db, line.id, "current", (NOW - timedelta(days=1), 140.0))

    view = read(db, " Riverside ")
    assert view.name == "Riverside"
    assert [m.component.name for m in view.members] == ["T1", "L1", "S1"]
    (t1,) = view.of_type(ComponentType.TRANSFORMER)
    assert {kind.value: (latest.value, latest.timestamp) for kind, latest in t1.latest.items()} == {
        "voltage": (110.5, NOW),
        "power": (12.0, NOW - timedelta(hours=2)),
    }
    assert view.of_type(ComponentType.SWITCH)[0].latest == {}
    assert view.newest == NOW


def test_connections_list_lines_leaving_and_arriving_with_their_other_ends(db):
    make_component(db, LINE, name="L1", to_substation="Hilltop")
    make_component(db, LINE, name="L2", voltage_kv=0.4, length_km=0.2)
    make_component(db, LINE, name="L7", substation="Seaside", to_substation="Riverside")
    view = read(db, "Riverside")
    assert [(c.line.name, c.other_end, c.starts_here) for c in view.connections] == [
        ("L1", "Hilltop", True),
        ("L2", None, True),
        ("L7", "Seaside", False),
    ]
    # A substation only named as a line's far end is a substation too.
    hilltop = read(db, "Hilltop")
    assert hilltop.members == []
    assert [(c.line.name, c.other_end) for c in hilltop.connections] == [("L1", "Riverside")]


@pytest.mark.parametrize("name", ["Nowhere", "", "   ", "Hill\x00top", "x" * 5000])
def test_an_unknown_substation_is_refused_with_its_name(db, name):
    make_component(db, TRANSFORMER)
    with pytest.raises(UnknownSubstation):
        read(db, name)


def test_charts_read_the_last_days_of_each_component_up_to_the_newest(db):
    transformer = make_component(db, TRANSFORMER)
    line = make_component(db, LINE)
    make_component(db, SWITCH)
    hours = [NOW - timedelta(hours=h) for h in range(0, 24 * 10, 6)]
    measure(db, transformer.id, "voltage", *[(moment, 110.0) for moment in hours])
    measure(db, line.id, "voltage", (NOW - timedelta(days=1), 20.0))
    measure(db, line.id, "current", (NOW, 5.0))
    view = read(db, "Riverside")
    with db.read() as session:
        series = substation_series(
            session=session, view=view, measurement_type=MeasurementType.VOLTAGE, days=7
        )
    assert set(series) == {transformer.id, line.id}
    assert series[transformer.id].raw_count == 7 * 4  # 7 days of 6-hourly values
    assert series[transformer.id].frame["timestamp"].max() == NOW
    assert series[line.id].raw_count == 1
    with db.read() as session:
        power = substation_series(
            session=session, view=view, measurement_type=MeasurementType.POWER
        )
    assert power == {}


def test_a_substation_record_without_components_reads_empty_and_is_listed(db):
    make_component(db, TRANSFORMER)  # in Riverside
    with db.write() as session:
        substation_for(session, "Newfield")
    with db.read() as session:
        view = read_substation(session=session, name=" Newfield ")
        names = list_substations(session=session)
        with pytest.raises(UnknownSubstation):
            read_substation(session=session, name="Nowhere")
    assert (view.name, view.members, view.connections, view.newest) == ("Newfield", [], [], None)
    assert names == ["Newfield", "Riverside"]
