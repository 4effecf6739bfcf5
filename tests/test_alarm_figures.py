"""The figures that show alarms: a component's limit bands and marked alarm, and the network's
substations and lines in alarm, built without a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from core.alarms.summary import LimitInForce, NetworkAlarms
from core.domain import MeasurementType
from core.grid.network import Line, Network, Substation
from views.figures.network_figure import network_figure
from views.figures.series_charts import AlarmMark, Panel, limit_bands, stacked_series_figure

VOLTAGE = (
    LimitInForce("high_alarm", "alarm", 1, False, 121.0),
    LimitInForce("high_warning", "warning", 1, False, 115.5),
    LimitInForce("low_warning", "warning", -1, False, 104.5),
    LimitInForce("low_alarm", "alarm", -1, False, 99.0),
)
LOADING = (
    LimitInForce("loading_alarm", "alarm", 1, True, 40.0),
    LimitInForce("loading_warning", "warning", 1, True, 36.0),
)
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def test_warning_bands_reach_the_alarm_limit_and_alarm_bands_as_far_again():
    assert limit_bands(VOLTAGE) == [
        ("warning", "high_warning", 115.5, 121.0),
        ("alarm", "high_alarm", 121.0, 126.5),
        ("warning", "low_warning", 104.5, 99.0),
        ("alarm", "low_alarm", 99.0, 93.5),
    ]


def test_a_lone_limit_gets_a_band_of_five_percent():
    alone = (LimitInForce("high_alarm", "alarm", 1, False, 130.0),)
    assert limit_bands(alone) == [("alarm", "high_alarm", 130.0, pytest.approx(136.5))]


def test_loading_limits_are_mirrored_below_zero_when_power_flows_back():
    assert limit_bands(LOADING) == [
        ("warning", "loading_warning", 36.0, 40.0),
        ("alarm", "loading_alarm", 40.0, 44.0),
    ]
    assert limit_bands(LOADING, mirrored=True)[2:] == [
        ("warning", "loading_warning", -36.0, -40.0),
        ("alarm", "loading_alarm", -40.0, -44.0),
    ]


def _frame(values):
    times = [T0 + timedelta(minutes=i) for i in range(len(values))]
    return pl.DataFrame(
        {"timestamp": times, "value": values, "sample_count": [1] * len(values)},
        schema={
            "timestamp": pl.Datetime("us", "UTC"),
            "value": pl.Float64,
            "sample_count": pl.Int64,
        },
    )


def test_the_chart_draws_bands_and_the_alarm_on_its_own_type_only():
    mark = AlarmMark("Alarm #7 loading alarm", T0, T0 + timedelta(minutes=1), 40.0)
    panels = [
        Panel(MeasurementType.VOLTAGE, {"T1": _frame([110.0, 112.0])}, limits=VOLTAGE),
        Panel(MeasurementType.POWER, {"T1": _frame([30.0, -41.0])}, limits=LOADING, alarm=mark),
    ]
    figure = stacked_series_figure(panels, time_zone="Europe/Zurich")
    by_axis: dict[str, list[str]] = {}
    for shape in figure.layout.shapes:
        by_axis.setdefault(shape.yref.split()[0], []).append(shape.name)  # "y2 domain" too
    assert sorted(by_axis["y"]) == sorted(
        [f"{kind} band" for kind in ("high warning", "high alarm", "low warning", "low alarm")]
        + ["high warning 115.5 kV", "high alarm 121 kV", "low warning 104.5 kV", "low alarm 99 kV"]
    )
    power = by_axis["y2"]
    assert power.count("loading alarm band") == 2  # -41 MW: mirrored below zero too
    assert "Alarm #7 loading alarm" in power and "Alarm #7 loading alarm limit" in power
    period = next(s for s in figure.layout.shapes if s.name == "Alarm #7 loading alarm")
    assert (str(period.x0), str(period.x1)) == ("2024-03-01 01:00:00", "2024-03-01 01:01:00")
    assert len(figure.data) == 2  # the bands are shapes: the series stay the only traces


def _network():
    return Network(
        substations=[
            Substation("North", 0.0, 0.0, 2, 1, 0, (110.0,)),
            Substation("East", 1.0, 0.0, 1, 0, 0, (20.0,)),
            Substation("South", 1.0, 1.0, 1, 0, 0, (20.0,)),
        ],
        lines=[
            Line(5, "L1", "North", "East", 110.0, 10.0),
            Line(6, "L2", "East", "South", 20.0, 3.0),
        ],
        unconnected=[],
        levels_kv=[110.0, 20.0],
        total_substations=3,
    )


def test_the_network_marks_substations_and_lines_by_their_worst_severity():
    alarms = NetworkAlarms({"North": "alarm", "East": "warning"}, {5: "alarm"})
    figure = network_figure(_network(), alarms=alarms)
    traces = {trace.name: trace for trace in figure.data if trace.name}
    north = traces["Substation in alarm"]
    assert (list(north.x), list(north.y), north.marker.color) == ([0.0], [0.0], "#c53030")
    east = traces["Substation in warning (no alarm)"]
    assert (list(east.x), list(east.y), east.marker.color) == ([1.0], [0.0], "#b7791f")
    line = traces["Line in alarm"]
    assert list(line.x)[:2] == [0.0, 1.0] and line.line.color == "#c53030"
    assert "Line in warning (no alarm)" not in traces
    assert [t.name for t in figure.data][-1] == "Substations"  # clicks still reach the nodes


def test_a_network_without_alarms_draws_no_alarm_marks():
    figure = network_figure(_network(), alarms=NetworkAlarms({}, {}))
    assert not [t for t in figure.data if t.name and " in " in t.name]
