"""Plotly figures built from frames (reports, substations; a component's are ``series_charts``):
pure, so tested without a browser. Colours follow the component type, axes carry units, text
from data goes through ``plain``. See docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from core.domain import MEASUREMENT_UNITS, ComponentType, MeasurementType
from core.reports import kpis
from core.reports.periods import PARTIAL_DAY
from core.timestamps import HOUR_SECONDS
from views.figures.chart_text import plain

COMPONENT_COLOURS: dict[str, str] = {
    ComponentType.TRANSFORMER.value: "#0b6e4f",
    ComponentType.LINE.value: "#2f6fb0",
    ComponentType.SWITCH.value: "#c07a12",
}
BAND_COLOUR = "rgba(11, 110, 79, 0.18)"
LINE_COLOUR = "#0b6e4f"
# Ten colours that stay apart from each other: one per series where a chart has several.
SERIES_COLOURS = (
    "#0b6e4f", "#2f6fb0", "#c07a12", "#a23b72", "#5b5f97",
    "#d1495b", "#3d8a8a", "#8c6d31", "#6a4c93", "#4d4d4d",
)  # fmt: skip
# A component type's dash, so that a series' type reads without its colour.
COMPONENT_DASHES: dict[str, str] = {
    ComponentType.TRANSFORMER.value: "solid",
    ComponentType.LINE.value: "dash",
    ComponentType.SWITCH.value: "dot",
}
# The legend stands right of the plot: above it, it covered the (first panel's) title.
LEGEND = {"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02}


def base_layout(figure: go.Figure, *, height: int = 360) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend=LEGEND,
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
                    line={
                        "color": COMPONENT_COLOURS.get(component_type),
                        "dash": COMPONENT_DASHES.get(component_type, "solid"),
                    },
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
    """Daily average voltage per component type and voltage level: per unit of the level's
    nominal voltage, where every level shares one axis, then in kV, one panel per level (no
    axis in kV spans two levels). Each series has its own colour, and its type's dash."""
    voltages = frame.filter(
        (pl.col("measurement_type") == MeasurementType.VOLTAGE.value)
        & pl.col("voltage_kv").is_not_null()
        & (pl.col("voltage_kv") > 0)
    ).sort("voltage_kv", "component_type", "day", descending=[True, False, False])
    if voltages.is_empty():
        return empty_figure("No voltage measurements of components with a voltage level")
    levels = voltages["voltage_kv"].unique(maintain_order=True).to_list()
    figure = make_subplots(
        rows=1 + len(levels),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.25 / len(levels),
        subplot_titles=[
            "Daily average voltage per unit of the level's nominal voltage",
            *(f"Daily average voltage at {_voltage_label(level)} (kV)" for level in levels),
        ],
    )
    series = voltages.group_by("voltage_kv", "component_type", maintain_order=True)
    for number, ((voltage_kv, component_type), part) in enumerate(series):
        name = plain(f"{component_type} {_voltage_label(float(voltage_kv))}")
        days = part["day"].dt.to_string("%Y-%m-%d").to_list()
        line = {
            "color": SERIES_COLOURS[number % len(SERIES_COLOURS)],
            "dash": COMPONENT_DASHES.get(str(component_type), "solid"),
        }
        partial = _partial_flags(part)
        notes = [
            [count, " · partial day" if cut else ""]
            for count, cut in zip(part["sample_count"].to_list(), partial, strict=True)
        ]
        for row, values, unit in (
            (1, part["avg_value"] / float(voltage_kv), "p.u."),
            (2 + levels.index(voltage_kv), part["avg_value"], "kV"),
        ):
            figure.add_trace(
                go.Scatter(
                    x=days,
                    y=values.to_list(),
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    mode="lines+markers",
                    line=line,
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
    figure.update_yaxes(title_text="per unit", row=1, col=1)
    for row in range(2, 2 + len(levels)):
        figure.update_yaxes(title_text="kV", row=row, col=1)
    figure.update_xaxes(type="category", categoryorder="category ascending")
    return base_layout(figure, height=260 + 220 * len(levels))


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
    hours = [r["duration_s"] / HOUR_SECONDS for r in rows]
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


def level_title(level_kv: float | None) -> str:
    """A panel's level: its own panel per voltage level, so no axis spans two levels."""
    return "no voltage level stored" if level_kv is None else f"the {level_kv:g} kV level"


def components_figure(
    series: dict[str, pl.DataFrame],
    *,
    measurement_type: MeasurementType,
    levels: Mapping[str, float | None] | None = None,
) -> go.Figure:
    """Several components' series of one measurement type, a line each (the mean where
    points are buckets), one panel per voltage level in ``levels`` (a label's level, highest
    first; without ``levels``, one panel). ``series`` maps a legend label (as typed: it is
    escaped here) to a ``core.measurements.measurements.Series.frame``."""
    if not series:
        return empty_figure(f"No {measurement_type.value} measurements here")
    unit = MEASUREMENT_UNITS[measurement_type]
    grouped: dict[float | None, list[str]] = {}
    for label in series:
        grouped.setdefault((levels or {}).get(label), []).append(label)
    order = sorted(grouped, key=lambda level: -1.0 if level is None else level, reverse=True)
    figure = make_subplots(
        rows=len(order),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.2 / len(order),
        subplot_titles=[
            f"{axis_title(measurement_type)} at {level_title(level)}" if levels else ""
            for level in order
        ],
    )
    colours = {label: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, label in enumerate(series)}
    for row, level in enumerate(order, start=1):
        for label in grouped[level]:
            frame = series[label]
            shown = plain(label)
            figure.add_trace(
                go.Scatter(
                    x=frame["timestamp"].to_list(),
                    y=frame["value"].to_list(),
                    name=shown,
                    mode="lines",
                    line={"width": 1.4, "color": colours[label]},
                    hovertemplate=f"{shown} %{{y:.3f}} {unit}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        figure.update_yaxes(title_text=axis_title(measurement_type), row=row, col=1)
    figure.update_xaxes(title_text="time (UTC)", row=len(order), col=1)
    return base_layout(figure, height=140 + 240 * len(order))
