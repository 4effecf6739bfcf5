"""A component's charts: one per measurement type, stacked on a shared time axis in the
person's time zone, a line per component, its label through ``plain``. See
docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from core.domain import MEASUREMENT_UNITS, MeasurementType
from views.figures.chart_text import plain
from views.figures.charts import (
    BAND_COLOUR,
    SERIES_COLOURS,
    axis_title,
    base_layout,
    empty_figure,
    level_title,
)

# Up to this many points a series also draws markers: a single point, or a few, stay visible.
MARKERS_UP_TO = 60


@dataclass(frozen=True, slots=True)
class Panel:
    """One measurement type's chart: a series (``core.measurements.measurements.Series.frame``) per
    component, keyed by the component's label."""

    measurement_type: MeasurementType
    series: dict[str, pl.DataFrame]
    level: str = ""  # the voltage level its components share, where the chart has several

    @property
    def title(self) -> str:
        kind = axis_title(self.measurement_type)
        return f"{kind} at {self.level}" if self.level else kind


def level_panels(
    measurement_type: MeasurementType,
    series: dict[str, pl.DataFrame],
    levels: Mapping[str, float | None],
) -> list[Panel]:
    """``series`` in one panel when their components (``levels``: each label's voltage level)
    share a level, else one panel per level, highest first: no axis spans two levels."""
    grouped: dict[float | None, dict[str, pl.DataFrame]] = {}
    for label, frame in series.items():
        grouped.setdefault(levels.get(label), {})[label] = frame
    if len(grouped) <= 1:
        return [Panel(measurement_type, series)]
    order = sorted(grouped, key=lambda level: -1.0 if level is None else level, reverse=True)
    return [Panel(measurement_type, grouped[level], level_title(level)) for level in order]


def component_label(name: str, substation: str, *, alone: bool) -> str:
    """A component's name in a chart's legend and hover text, with its substation when it
    shares the chart with others (as typed: the figure escapes it)."""
    return name if alone else f"{name} · {substation}"


def local_times(frame: pl.DataFrame, time_zone: str) -> list[datetime]:
    """The frame's UTC timestamps as wall-clock times in ``time_zone`` (without an offset, so
    the chart's axis reads them as a person there does)."""
    column = frame["timestamp"].dt.convert_time_zone(time_zone).dt.replace_time_zone(None)
    return column.to_list()


def _line_mode(frame: pl.DataFrame) -> str:
    return "lines+markers" if frame.height <= MARKERS_UP_TO else "lines"


def _add_series(
    figure: go.Figure, frame: pl.DataFrame, *, row: int, name: str, colour: str, unit: str,
    with_band: bool, time_zone: str, legend: bool
) -> None:  # fmt: skip
    times = local_times(frame, time_zone)
    name = plain(name)
    if with_band and frame.filter(pl.col("sample_count") > 1).height > 0:
        band = {"mode": "lines", "line": {"width": 0}, "legendgroup": name, "showlegend": False}
        figure.add_trace(
            go.Scatter(x=times, y=frame["max_value"].to_list(), name=f"{name} max",
                       hovertemplate=f"max %{{y:.3f}} {unit}<extra></extra>", **band),
            row=row, col=1,
        )  # fmt: skip
        figure.add_trace(
            go.Scatter(x=times, y=frame["min_value"].to_list(), name=f"{name} min-max range",
                       fill="tonexty", fillcolor=BAND_COLOUR,
                       hovertemplate=f"min %{{y:.3f}} {unit}<extra></extra>", **band),
            row=row, col=1,
        )  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=times,
            y=frame["value"].to_list(),
            name=name,
            legendgroup=name,
            showlegend=legend,
            mode=_line_mode(frame),
            line={"color": colour, "width": 1.6},
            marker={"color": colour, "size": 7},
            hovertemplate=f"{name} %{{y:.3f}} {unit}<extra></extra>",
        ),
        row=row,
        col=1,
    )


def stacked_series_figure(panels: list[Panel], *, time_zone: str = "UTC") -> go.Figure:
    """One chart per measurement type, stacked and sharing the time axis (in ``time_zone``),
    each with a line per component (keyed by its label as typed); a single component's
    downsampled series also gets its min-max band. A lone point is drawn as a marker on an
    axis an hour either side of it."""
    shown = [panel for panel in panels if any(not f.is_empty() for f in panel.series.values())]
    if not shown:
        kinds = " or ".join(panel.measurement_type.value for panel in panels) or "such"
        return empty_figure(f"No {kinds} measurements in this time range")
    figure = make_subplots(
        rows=len(shown), cols=1, shared_xaxes=True, vertical_spacing=0.06,
        subplot_titles=[plain(panel.title) for panel in shown],
    )  # fmt: skip
    labels = list(dict.fromkeys(label for panel in shown for label in panel.series))
    colours = {label: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, label in enumerate(labels)}
    times: list[datetime] = []
    in_legend: set[str] = set()
    for row, panel in enumerate(shown, start=1):
        unit = MEASUREMENT_UNITS[panel.measurement_type]
        for label, frame in panel.series.items():
            if frame.is_empty():
                continue
            _add_series(
                figure, frame, row=row, name=label, colour=colours[label], unit=unit,
                with_band=len(labels) == 1, time_zone=time_zone, legend=label not in in_legend,
            )  # fmt: skip
            in_legend.add(label)
            times += local_times(frame.head(1), time_zone) + local_times(frame.tail(1), time_zone)
        figure.update_yaxes(title_text=unit, row=row, col=1)
    if min(times) == max(times):  # one instant: Plotly would zoom to a millisecond around it
        figure.update_xaxes(
            range=[min(times) - timedelta(hours=1), max(times) + timedelta(hours=1)]
        )
    figure.update_xaxes(title_text=plain(f"time ({time_zone})"), row=len(shown), col=1)
    figure.update_layout(showlegend=len(labels) > 1)
    return base_layout(figure, height=120 + 260 * len(shown))
