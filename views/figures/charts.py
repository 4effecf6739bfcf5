"""Plotly figures built from frames (reports, substations; a component's are ``series_charts``):
pure, so tested without a browser. Colours follow the component type, axes carry units, text
from data goes through ``plain``. See docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from core.domain import MEASUREMENT_UNITS, ComponentType, MeasurementType
from core.reports import kpis
from core.reports.periods import PARTIAL_DAY
from views.figures.chart_text import plain

COMPONENT_COLOURS: dict[str, str] = {
    ComponentType.TRANSFORMER.value: "#0b6e4f",
    ComponentType.LINE.value: "#2f6fb0",
    ComponentType.SWITCH.value: "#c07a12",
}
BAND_COLOUR = "rgba(11, 110, 79, 0.18)"
LINE_COLOUR = "#0b6e4f"


def base_layout(figure: go.Figure, *, height: int = 360) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
    )
    return figure


def empty_figure(message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(
        text=plain(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font_size=15
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return base_layout(figure, height=240)


def axis_title(measurement_type: MeasurementType) -> str:
    return f"{measurement_type.value.capitalize()} ({MEASUREMENT_UNITS[measurement_type]})"


def _partial_flags(part: pl.DataFrame) -> list[bool]:
    """Which rows of a daily table are partial days (none, for tables without the column)."""
    return part[PARTIAL_DAY].to_list() if PARTIAL_DAY in part.columns else [False] * part.height


def _partial_markers(partial: list[bool]) -> dict[str, list[Any]]:
    """A partial day's average is over fewer hours: an open, larger marker says so."""
    return {
        "symbol": ["circle-open" if cut else "circle" for cut in partial],
        "size": [11 if cut else 6 for cut in partial],
    }


def daily_averages_figure(frame: pl.DataFrame) -> go.Figure:
    """Daily averages as lines per component type, one panel per measurement type."""
    if frame.is_empty():
        return empty_figure("No measurements in this report's period")
    present = set(frame["measurement_type"].unique().to_list())
    kinds = [kind for kind in MeasurementType if kind.value in present]
    figure = make_subplots(
        rows=len(kinds),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[
            f"Daily average {kind.value} ({MEASUREMENT_UNITS[kind]})" for kind in kinds
        ],
    )
    shown_in_legend: set[str] = set()
    for row, kind in enumerate(kinds, start=1):
        panel = frame.filter(pl.col("measurement_type") == kind.value).sort("day")
        for component_type in sorted(panel["component_type"].unique().to_list()):
            part = panel.filter(pl.col("component_type") == component_type)
            partial = _partial_flags(part)
            shown = plain(component_type)
            figure.add_trace(
                go.Scatter(
                    x=part["day"].dt.to_string("%Y-%m-%d").to_list(),
                    y=part["avg_value"].to_list(),
                    name=shown,
                    legendgroup=shown,
                    showlegend=component_type not in shown_in_legend,
                    mode="lines+markers",
                    line={"color": COMPONENT_COLOURS.get(component_type)},
                    marker=_partial_markers(partial),
                    customdata=[
                        [count, " · partial day" if cut else ""]
                        for count, cut in zip(part["sample_count"].to_list(), partial, strict=True)
                    ],
                    hovertemplate=(
                        f"{shown}: %{{y:.3f}} {MEASUREMENT_UNITS[kind]}"
                        " (%{customdata[0]} samples%{customdata[1]})<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
            shown_in_legend.add(component_type)
        figure.update_yaxes(title_text=MEASUREMENT_UNITS[kind], row=row, col=1)
    # Days as categories in date order: one tick per day, never an hour between two days.
    figure.update_xaxes(type="category", categoryorder="category ascending")
    return base_layout(figure, height=220 + 200 * len(kinds))


def voltage_by_level_figure(frame: pl.DataFrame) -> go.Figure:
    """Daily average voltage per component type and voltage level: in kV, and per unit of
    the level's nominal voltage, where every level shares one axis."""
    voltages = frame.filter(
        (pl.col("measurement_type") == MeasurementType.VOLTAGE.value)
        & pl.col("voltage_kv").is_not_null()
        & (pl.col("voltage_kv") > 0)
    ).sort("voltage_kv", "component_type", "day", descending=[True, False, False])
    if voltages.is_empty():
        return empty_figure("No voltage measurements of components with a voltage level")
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[
            "Daily average voltage per level (kV)",
            "Daily average voltage per unit of the level's nominal voltage",
        ],
    )
    for (voltage_kv, component_type), part in voltages.group_by(
        "voltage_kv", "component_type", maintain_order=True
    ):
        name = plain(f"{component_type} {_voltage_label(float(voltage_kv))}")
        days = part["day"].dt.to_string("%Y-%m-%d").to_list()
        colour = COMPONENT_COLOURS.get(str(component_type))
        partial = _partial_flags(part)
        notes = [
            [count, " · partial day" if cut else ""]
            for count, cut in zip(part["sample_count"].to_list(), partial, strict=True)
        ]
        for row, values, unit in (
            (1, part["avg_value"], "kV"),
            (2, part["avg_value"] / float(voltage_kv), "p.u."),
        ):
            figure.add_trace(
                go.Scatter(
                    x=days,
                    y=values.to_list(),
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    mode="lines+markers",
                    line={"color": colour},
                    marker=_partial_markers(partial),
                    customdata=notes,
                    hovertemplate=(
                        f"{name}: %{{y:.4f}} {unit}"
                        " (%{customdata[0]} samples%{customdata[1]})<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
    figure.update_yaxes(title_text="kV", row=1, col=1)
    figure.update_yaxes(title_text="per unit", row=2, col=1)
    figure.update_xaxes(type="category", categoryorder="category ascending")
    return base_layout(figure, height=620)


def _bars(
    x: list[str],
    y: list[float],
    *,
    colours: list[str],
    y_title: str,
    x_title: str,
    hover: list[str],
) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=[plain(label) for label in x],
            y=y,
            marker_color=colours,
            text=[f"{value:g}" for value in y],
            textposition="outside",
            hovertext=[plain(text) for text in hover],
            hoverinfo="text",
        )
    )
    figure.update_yaxes(title_text=y_title, rangemode="tozero")
    figure.update_xaxes(title_text=x_title, type="category")
    figure.update_layout(hovermode="closest", showlegend=False)
    return base_layout(figure, height=320)


def components_by_type_figure(frame: pl.DataFrame) -> go.Figure:
    if frame.is_empty() or int(frame["count"].sum()) == 0:
        return empty_figure("No components in the inventory")
    types = frame["component_type"].to_list()
    counts = [float(count) for count in frame["count"].to_list()]
    return _bars(
        types,
        counts,
        colours=[COMPONENT_COLOURS.get(kind, LINE_COLOUR) for kind in types],
        y_title="components",
        x_title="component type",
        hover=[f"{kind}: {count:g}" for kind, count in zip(types, counts, strict=True)],
    )


def _voltage_label(voltage_kv: float | None) -> str:
    return "unknown" if voltage_kv is None else f"{voltage_kv:g} kV"


# Per kind, its per-voltage-level table's count and total columns, the total's unit and name.
_PER_VOLTAGE = {
    ComponentType.TRANSFORMER: ("transformer_count", "total_capacity_mva", "MVA", "total capacity"),
    ComponentType.LINE: ("line_count", "total_length_km", "km", "total length"),
}


def _per_voltage_figure(kind: ComponentType, frame: pl.DataFrame) -> go.Figure:
    """Bars of a report's per-voltage-level table for ``kind`` (transformer capacity, line
    length)."""
    count, total, unit, what = _PER_VOLTAGE[kind]
    if frame.is_empty():
        return empty_figure(f"No {kind.value}s in the inventory")
    labels = [_voltage_label(v) for v in frame["voltage_kv"].to_list()]
    totals = [float(v) for v in frame[total].to_list()]
    counts = frame[count].to_list()
    return _bars(
        labels,
        totals,
        colours=[COMPONENT_COLOURS[kind.value]] * len(labels),
        y_title=f"{what} ({unit})",
        x_title="voltage level",
        hover=[
            f"{label}: {value:g} {unit} over {number} {kind.value}s"
            for label, value, number in zip(labels, totals, counts, strict=True)
        ],
    )


# The longest violations drawn (the table lists every one).
VIOLATION_BARS = 20


def limit_violations_figure(frame: pl.DataFrame) -> go.Figure:
    """Bars of the longest violations (component and kind) in hours, coloured by type."""
    if frame.is_empty():
        return empty_figure("No limit violations in this period")
    longest = frame.sort("duration_s", descending=True).head(VIOLATION_BARS)
    rows = list(longest.iter_rows(named=True))
    labels = [
        f"{r['component']} ({r['substation']}) {r['measurement_type']} {r['kind']}" for r in rows
    ]
    hours = [r["duration_s"] / 3600 for r in rows]
    return _bars(
        labels,
        hours,
        colours=[COMPONENT_COLOURS.get(r["component_type"], LINE_COLOUR) for r in rows],
        y_title="time outside (h)",
        x_title="component, measurement and kind",
        hover=[
            f"{label}: {r['alarm_count']} alarms, {value:.3g} h, worst {r['worst_value']:g}"
            if r["worst_value"] is not None
            else f"{label}: {r['alarm_count']} alarms, {value:.3g} h"
            for label, value, r in zip(labels, hours, rows, strict=True)
        ],
    )


def alarm_shares_figure(frame: pl.DataFrame) -> go.Figure:
    """Bars of each type and level's share of time in alarm (an alarm's severity)."""
    if frame.is_empty():
        return empty_figure("No components in the inventory")
    rows = list(frame.iter_rows(named=True))
    labels = [f"{r['component_type']} {_voltage_label(r['voltage_kv'])}" for r in rows]
    shares = [float(r["alarm_share_pct"]) for r in rows]
    return _bars(
        labels,
        shares,
        colours=[COMPONENT_COLOURS.get(r["component_type"], LINE_COLOUR) for r in rows],
        y_title="time in alarm (%)",
        x_title="component type and voltage level",
        hover=[
            f"{label}: {r['alarm_share_pct']:.3g} % in alarm, "
            f"{r['warning_or_alarm_share_pct']:.3g} % in a warning or alarm"
            for label, r in zip(labels, rows, strict=True)
        ],
    )


REPORT_FIGURES: dict[str, Callable[[pl.DataFrame], go.Figure]] = {
    kpis.COMPONENTS_BY_TYPE: components_by_type_figure,
    kpis.TRANSFORMER_CAPACITY: partial(_per_voltage_figure, ComponentType.TRANSFORMER),
    kpis.LINE_LENGTH: partial(_per_voltage_figure, ComponentType.LINE),
    kpis.DAILY_AVERAGES: daily_averages_figure,
    kpis.DAILY_AVERAGES_BY_VOLTAGE: voltage_by_level_figure,
    kpis.LIMIT_VIOLATIONS: limit_violations_figure,
    kpis.ALARM_SHARES: alarm_shares_figure,
}


def report_figure(table: str, frame: pl.DataFrame) -> go.Figure:
    """The chart for one of a report's tables (``core.reports.kpis.TABLES``)."""
    return REPORT_FIGURES[table](frame)


def components_figure(
    series: dict[str, pl.DataFrame], *, measurement_type: MeasurementType
) -> go.Figure:
    """Several components' series of one measurement type on one chart, a line each (the
    mean where points are buckets). ``series`` maps a legend label (as typed: it is escaped
    here) to a ``core.measurements.measurements.Series.frame``."""
    if not series:
        return empty_figure(f"No {measurement_type.value} measurements here")
    unit = MEASUREMENT_UNITS[measurement_type]
    figure = go.Figure()
    for label, frame in series.items():
        shown = plain(label)
        figure.add_trace(
            go.Scatter(
                x=frame["timestamp"].to_list(),
                y=frame["value"].to_list(),
                name=shown,
                mode="lines",
                line={"width": 1.4},
                hovertemplate=f"{shown} %{{y:.3f}} {unit}<extra></extra>",
            )
        )
    figure.update_yaxes(title_text=axis_title(measurement_type))
    figure.update_xaxes(title_text="time (UTC)")
    return base_layout(figure, height=380)
