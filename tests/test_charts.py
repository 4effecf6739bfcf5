from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from core.domain import MeasurementType
from core.measurements.measurements import SERIES_SCHEMA
from core.reports import kpis
from views.figures import charts, series_charts

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def _series(values: list[float], counts: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(hours=i) for i in range(len(values))],
            "value": values,
            "min_value": [v - 1 for v in values],
            "max_value": [v + 1 for v in values],
            "sample_count": counts,
        },
        schema=SERIES_SCHEMA,
    )


def _annotation_texts(figure) -> list[str]:
    return [a.text for a in figure.layout.annotations]


def _daily() -> pl.DataFrame:
    rows = [
        (date(2024, 5, 1), "voltage", "line", 20.1, 96),
        (date(2024, 5, 2), "voltage", "line", 20.3, 96),
        (date(2024, 5, 1), "voltage", "transformer", 110.2, 96),
        (date(2024, 5, 1), "power", "transformer", 12.5, 96),
    ]
    return pl.DataFrame(
        [(*row, row[3] - 1, row[3] + 1) for row in rows],
        schema=kpis.SCHEMAS[kpis.DAILY_AVERAGES],
        orient="row",
    ).select(list(kpis.SCHEMAS[kpis.DAILY_AVERAGES]))


def test_daily_averages_have_a_panel_per_measurement_type_and_a_line_per_component_type():
    figure = charts.daily_averages_figure(_daily())
    assert _annotation_texts(figure) == [
        "Daily average voltage (kV)",
        "Daily average power (MW)",
    ]
    lines = [(trace.name, trace.yaxis, list(trace.y)) for trace in figure.data]
    assert list(figure.data[0].x) == ["2024-05-01", "2024-05-02"]
    assert lines == [
        ("line", "y", [20.1, 20.3]),
        ("transformer", "y", [110.2]),
        ("transformer", "y2", [12.5]),
    ]
    # one legend entry per component type, the same colour in every panel
    assert [trace.showlegend for trace in figure.data] == [True, True, False]
    assert figure.data[1].line.color == figure.data[2].line.color


def test_daily_averages_without_rows_say_so():
    empty = pl.DataFrame(schema=kpis.SCHEMAS[kpis.DAILY_AVERAGES])
    assert _annotation_texts(charts.daily_averages_figure(empty)) == [
        "No measurements in this report's period"
    ]


def _by_voltage(rows) -> pl.DataFrame:
    return pl.DataFrame(
        [(*row, 96, row[4] - 1, row[4] + 1) for row in rows],
        schema=kpis.SCHEMAS[kpis.DAILY_AVERAGES_BY_VOLTAGE],
        orient="row",
    )


def test_voltage_per_level_per_unit_on_one_axis_and_in_kv_a_panel_per_level():
    frame = _by_voltage(
        [
            (date(2024, 5, 1), "voltage", "transformer", 110.0, 112.2),
            (date(2024, 5, 2), "voltage", "transformer", 110.0, 108.9),
            (date(2024, 5, 1), "voltage", "transformer", 20.0, 20.4),
            (date(2024, 5, 1), "voltage", "line", 20.0, 19.8),
            (date(2024, 5, 1), "voltage", "line", 0.4, 0.39),
            (date(2024, 5, 1), "power", "transformer", 110.0, 30.0),  # not a voltage
            (date(2024, 5, 1), "current", "switch", None, 5.0),  # no level
        ]
    )
    figure = charts.voltage_by_level_figure(frame)
    assert _annotation_texts(figure) == [
        "Daily average voltage per unit of the level's nominal voltage",
        "Daily average voltage at 110 kV (kV)",
        "Daily average voltage at 20 kV (kV)",
        "Daily average voltage at 0.4 kV (kV)",
    ]
    lines = [(trace.name, trace.yaxis, [round(y, 6) for y in trace.y]) for trace in figure.data]
    assert lines == [
        ("transformer 110 kV", "y", [1.02, 0.99]),
        ("transformer 110 kV", "y2", [112.2, 108.9]),
        ("line 20 kV", "y", [0.99]),
        ("line 20 kV", "y3", [19.8]),
        ("transformer 20 kV", "y", [1.02]),
        ("transformer 20 kV", "y3", [20.4]),
        ("line 0.4 kV", "y", [0.975]),
        ("line 0.4 kV", "y4", [0.39]),
    ]
    assert [trace.showlegend for trace in figure.data] == [True, False] * 4
    # No axis in kV holds two levels: each kV axis has the series of one level only.
    levels_per_axis = {}
    for trace in figure.data[1::2]:
        levels_per_axis.setdefault(trace.yaxis, set()).add(trace.name.split()[-2])
    assert all(len(levels) == 1 for levels in levels_per_axis.values())


def test_voltage_per_level_series_each_look_different_and_types_differ_by_dash():
    rows = [
        (date(2024, 5, 1), "voltage", kind, level, level * 1.01)
        for level, kinds in (
            (110.0, ("line", "transformer")),
            (20.0, ("line", "transformer", "switch")),
        )
        for kind in kinds
    ]
    figure = charts.voltage_by_level_figure(_by_voltage(rows))
    named = [trace for trace in figure.data if trace.showlegend]
    assert len(named) == 5
    assert len({trace.line.color for trace in named}) == 5  # five series, five colours
    dashes = {trace.name.split()[0]: trace.line.dash for trace in named}
    assert len(set(dashes.values())) == 3  # the type reads from the dash as well
    for trace in figure.data:  # a series looks the same in the per-unit and the kV panel
        twin = next(t for t in named if t.name == trace.name)
        assert (trace.line.color, trace.line.dash) == (twin.line.color, twin.line.dash)


def test_voltage_per_level_without_voltages_says_so():
    frame = _by_voltage([(date(2024, 5, 1), "current", "switch", None, 5.0)])
    assert _annotation_texts(charts.voltage_by_level_figure(frame)) == [
        "No voltage measurements of components with a voltage level"
    ]


def test_inventory_bars():
    by_type = pl.DataFrame(
        {"component_type": ["line", "switch", "transformer"], "count": [3, 0, 2]},
        schema=kpis.SCHEMAS[kpis.COMPONENTS_BY_TYPE],
    )
    figure = charts.report_figure(kpis.COMPONENTS_BY_TYPE, by_type)
    assert list(figure.data[0].x) == ["line", "switch", "transformer"]
    assert list(figure.data[0].y) == [3, 0, 2]

    capacity = pl.DataFrame(
        {"voltage_kv": [20.0, 110.0], "transformer_count": [4, 1], "total_capacity_mva": [2.5, 40]},
        schema=kpis.SCHEMAS[kpis.TRANSFORMER_CAPACITY],
    )
    figure = charts.report_figure(kpis.TRANSFORMER_CAPACITY, capacity)
    assert list(figure.data[0].x) == ["20 kV", "110 kV"]
    assert list(figure.data[0].y) == [2.5, 40]
    assert figure.layout.yaxis.title.text == "total capacity (MVA)"
    assert "over 4 transformers" in figure.data[0].hovertext[0]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (kpis.COMPONENTS_BY_TYPE, "No components in the inventory"),
        (kpis.TRANSFORMER_CAPACITY, "No transformers in the inventory"),
        (kpis.LINE_LENGTH, "No lines in the inventory"),
    ],
)
def test_empty_inventory_tables_say_so(table, message):
    figure = charts.report_figure(table, pl.DataFrame(schema=kpis.SCHEMAS[table]))
    assert _annotation_texts(figure) == [message]


def test_a_lone_measurement_is_a_marker_on_a_readable_axis():
    one = _series([230.0], [1])
    panel = series_charts.Panel(MeasurementType.VOLTAGE, {"L1": one})
    figure = series_charts.stacked_series_figure([panel])
    (trace,) = figure.data
    assert "markers" in trace.mode
    low, high = figure.layout.xaxis.range
    assert (low, high) == (T0.replace(tzinfo=None) - timedelta(hours=1),
                           T0.replace(tzinfo=None) + timedelta(hours=1))  # fmt: skip


def test_several_types_stack_on_one_time_axis_in_the_persons_zone():
    panels = [
        series_charts.Panel(MeasurementType.VOLTAGE, {"L1": _series([1, 2], [1, 1])}),
        series_charts.Panel(MeasurementType.POWER, {"L1": _series([3, 4], [1, 1])}),
    ]
    figure = series_charts.stacked_series_figure(panels, time_zone="Europe/Zurich")
    assert [a.text for a in figure.layout.annotations] == ["Voltage (kV)", "Power (MW)"]
    assert figure.data[1].yaxis == "y2" and figure.layout.xaxis.matches == "x2"
    assert figure.data[0].x[0] == datetime(2024, 5, 1, 2, 0)  # 00:00 UTC is 02:00 in Zurich
    assert figure.layout.xaxis2.title.text == "time (Europe/Zurich)"


def test_compared_components_are_lines_of_their_own_colour_with_a_legend():
    many = {f"T{n} · Riverside": _series([n, n + 1], [4, 4]) for n in range(10)}
    figure = series_charts.stacked_series_figure([series_charts.Panel(MeasurementType.POWER, many)])
    assert [trace.name for trace in figure.data] == list(many)  # no bands among ten lines
    assert len({trace.line.color for trace in figure.data}) == 10
    assert figure.layout.showlegend


def _legend_clear_of_titles(figure) -> bool:
    """The legend stands where no title can be: right of the plot, whose titles (the
    subplot titles) are centred over the plot's width; or below the plot."""
    legend = figure.layout.legend
    titles = [a for a in figure.layout.annotations if a.yref == "paper" and a.y >= 0]
    right = legend.x is not None and legend.x >= 1 and legend.xanchor == "left"
    below = legend.y is not None and legend.y < 0 and legend.yanchor == "top"
    return bool(titles) and all(a.x <= 1 for a in titles) and (right or below)


def test_legends_never_cover_the_titles():
    by_voltage = _by_voltage([(date(2024, 5, 1), "voltage", "line", 20.0, 20.2)])
    compared = series_charts.stacked_series_figure(
        [
            series_charts.Panel(MeasurementType.VOLTAGE, {"A": _series([1, 2], [1, 1])}),
            series_charts.Panel(MeasurementType.VOLTAGE, {"B": _series([1, 2], [1, 1])}, "x"),
        ]
    )
    for figure in (
        charts.daily_averages_figure(_daily()),
        charts.voltage_by_level_figure(by_voltage),
        compared,
        charts.components_figure(
            {"T1": _series([1, 2], [1, 1]), "L1": _series([1, 2], [1, 1])},
            measurement_type=MeasurementType.VOLTAGE,
            levels={"T1": 110.0, "L1": 20.0},
        ),
    ):
        assert figure.layout.showlegend is not False
        assert _legend_clear_of_titles(figure)


def test_a_substations_components_of_two_levels_get_a_panel_each():
    figure = charts.components_figure(
        {"T1": _series([110, 111], [1, 1]), "L1": _series([20, 21], [1, 1]),
         "S1": _series([5, 6], [1, 1]), "T2": _series([20, 20], [1, 1])},
        measurement_type=MeasurementType.VOLTAGE,
        levels={"T1": 110.0, "L1": 20.0, "S1": None, "T2": 20.0},
    )  # fmt: skip
    assert _annotation_texts(figure) == [
        "Voltage (kV) at the 110 kV level",
        "Voltage (kV) at the 20 kV level",
        "Voltage (kV) at no voltage level stored",
    ]
    assert {trace.name: trace.yaxis for trace in figure.data} == {
        "T1": "y", "L1": "y2", "T2": "y2", "S1": "y3"
    }  # fmt: skip
    assert len({trace.line.color for trace in figure.data}) == 4


def test_compared_components_of_other_levels_get_their_own_panels():
    levels = {"T1 · Riverside": 110.0, "L1 · Riverside": 20.0, "L2 · Hilltop": 20.0}
    series = {label: _series([1, 2], [3, 3]) for label in levels}
    panels = [
        *series_charts.level_panels(MeasurementType.VOLTAGE, series, levels),
        *series_charts.level_panels(MeasurementType.POWER, series, levels),
    ]
    figure = series_charts.stacked_series_figure(panels)
    assert _annotation_texts(figure) == [
        "Voltage (kV) at the 110 kV level",
        "Voltage (kV) at the 20 kV level",
        "Power (MW) at the 110 kV level",
        "Power (MW) at the 20 kV level",
    ]
    axes = {(trace.name, trace.yaxis) for trace in figure.data}
    assert axes == {
        ("T1 · Riverside", "y"), ("L1 · Riverside", "y2"), ("L2 · Hilltop", "y2"),
        ("T1 · Riverside", "y3"), ("L1 · Riverside", "y4"), ("L2 · Hilltop", "y4"),
    }  # fmt: skip
    assert [trace.name for trace in figure.data if trace.showlegend] == list(levels)
    same_level = {"L1": 20.0, "L2": 20.0}
    one = series_charts.level_panels(
        MeasurementType.VOLTAGE, dict.fromkeys(same_level, series["L1 · Riverside"]), same_level
    )
    assert [panel.title for panel in one] == ["Voltage (kV)"]  # one level: one panel
