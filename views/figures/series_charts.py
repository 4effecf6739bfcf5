"""A component's charts: one per measurement type, stacked on a shared time axis in the
person's time zone, a line per component, its label through ``plain``, its limits as bands.
See docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from core.alarms.summary import LimitInForce
from core.diagram import SEVERITY_COLOURS
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
# A limit with no neighbour to bound its band (an alarm without a warning) gets one this wide.
LONE_BAND = 0.05


@dataclass(frozen=True, slots=True)
class AlarmMark:
    """One alarm drawn on its chart: its period (raised to cleared, or to the newest
    measurement while active) shaded and the limit it crossed."""

    label: str
    start: datetime
    end: datetime
    limit: float | None


@dataclass(frozen=True, slots=True)
class Panel:
    """One measurement type's chart: a series (``core.measurements.measurements.Series.frame``) per
    component, keyed by the component's label; the limits in force drawn as bands, and an
    alarm marked."""

    measurement_type: MeasurementType
    series: dict[str, pl.DataFrame]
    level: str = ""  # the voltage level its components share, where the chart has several
    limits: tuple[LimitInForce, ...] = ()
    alarm: AlarmMark | None = None

    @property
    def title(self) -> str:
        kind = axis_title(self.measurement_type)
        return f"{kind} at {self.level}" if self.level else kind


def level_panels(
    measurement_type: MeasurementType,
    series: dict[str, pl.DataFrame],
    levels: Mapping[str, float | None],
    *,
    limits: tuple[LimitInForce, ...] = (),
    alarm: AlarmMark | None = None,
    owner: str = "",
) -> list[Panel]:
    """``series`` in one panel when their components (``levels``: each label's voltage level)
    share a level, else one panel per level, highest first: no axis spans two levels. The
    ``limits`` and ``alarm`` are those of the component labelled ``owner``: only its panel draws
    them."""
    grouped: dict[float | None, dict[str, pl.DataFrame]] = {}
    for label, frame in series.items():
        grouped.setdefault(levels.get(label), {})[label] = frame
    if len(grouped) <= 1:
        return [Panel(measurement_type, series, limits=limits, alarm=alarm)]
    order = sorted(grouped, key=lambda level: -1.0 if level is None else level, reverse=True)
    return [
        Panel(measurement_type, grouped[level], level_title(level), limits=limits, alarm=alarm)
        if owner in grouped[level]
        else Panel(measurement_type, grouped[level], level_title(level))
        for level in order
    ]


def limit_bands(
    limits: tuple[LimitInForce, ...], *, mirrored: bool = False
) -> list[tuple[str, str, float, float]]:
    """(severity, name, from, to) of each band: a warning from its limit to the alarm's on
    the same side, an alarm from its limit outwards as far again (or ``LONE_BAND`` of it).
    ``mirrored`` adds the bands below zero of the limits on |value| (loading)."""
    bands: list[tuple[str, str, float, float]] = []
    for direction in (1, -1):
        side = {x.severity: x for x in limits if x.direction == direction}
        warning, alarm = side.get("warning"), side.get("alarm")
        if warning is not None:
            far = alarm.value if alarm else warning.value + direction * _lone(warning.value)
            bands.append(("warning", warning.kind, warning.value, far))
        if alarm is not None:
            width = abs(alarm.value - warning.value) if warning else _lone(alarm.value)
            bands.append(("alarm", alarm.kind, alarm.value, alarm.value + direction * width))
    if mirrored:
        absolute = {x.kind for x in limits if x.absolute}
        bands += [(sev, kind, -a, -b) for sev, kind, a, b in bands if kind in absolute]
    return bands


def _lone(value: float) -> float:
    return abs(value) * LONE_BAND or 1.0


def _shade(
    figure: go.Figure, row: int, bands: list[tuple[str, str, float, float]], unit: str
) -> None:
    for severity, kind, start, end in bands:
        colour = SEVERITY_COLOURS[severity]
        figure.add_hrect(
            y0=min(start, end), y1=max(start, end), row=row, col=1, fillcolor=colour,
            opacity=0.12, line_width=0, layer="below", name=f"{kind.replace('_', ' ')} band",
        )  # fmt: skip
        figure.add_hline(
            y=start, row=row, col=1, line={"color": colour, "width": 1, "dash": "dot"},
            name=f"{kind.replace('_', ' ')} {start:g} {unit}",
            label={"text": f"{kind.replace('_', ' ')} {start:g} {unit}", "font": {"size": 10,
                   "color": colour}, "textposition": "end"},
        )  # fmt: skip


def _mark(figure: go.Figure, row: int, mark: AlarmMark, unit: str, time_zone: str) -> None:
    zone = ZoneInfo(time_zone)
    start, end = (moment.astimezone(zone).replace(tzinfo=None) for moment in (mark.start, mark.end))
    figure.add_vrect(
        x0=start, x1=end, row=row, col=1,
        fillcolor=SEVERITY_COLOURS["alarm"], opacity=0.08, line_width=1,
        line_color=SEVERITY_COLOURS["alarm"], layer="below", name=plain(mark.label),
    )  # fmt: skip
    if mark.limit is not None:
        figure.add_hline(
            y=mark.limit, row=row, col=1, name=f"{plain(mark.label)} limit",
            line={"color": SEVERITY_COLOURS["alarm"], "width": 2},
            label={"text": f"{plain(mark.label)}: limit {mark.limit:g} {unit}",
                   "textposition": "start", "font": {"size": 10}},
        )  # fmt: skip


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
        negative = any(bool((f["value"] < 0).any()) for f in panel.series.values())
        _shade(figure, row, limit_bands(panel.limits, mirrored=negative), unit)
        if panel.alarm is not None:
            _mark(figure, row, panel.alarm, unit, time_zone)
    if min(times) == max(times):  # one instant: Plotly would zoom to a millisecond around it
        figure.update_xaxes(
            range=[min(times) - timedelta(hours=1), max(times) + timedelta(hours=1)]
        )
    figure.update_xaxes(title_text=plain(f"time ({time_zone})"), row=len(shown), col=1)
    figure.update_layout(showlegend=len(labels) > 1)
    return base_layout(figure, height=120 + 260 * len(shown))
