"""A component's charts, their captions, its measurements table and raw downloads: the part of
the component page that auto-refresh runs again on its own. See docs/architecture.md#layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from core.alarms.records import AlarmRecord
from core.alarms.summary import LimitInForce, alarm_window
from core.domain import MeasurementType
from core.exports import (
    MEASUREMENT_COLUMNS,
    ExportFormat,
    download_problem,
    file_chunks,
    measurements_export,
)
from core.grid.components import ComponentRecord
from core.measurements.measurements import list_measurements, read_series, series_bounds
from core.reports.periods import SeriesWindow, custom_days_shown_first, series_window
from core.units import format_duration
from views import alarm_words, messages, pager, resources, selection, wording
from views.figures.charts import axis_title
from views.figures.series_charts import (
    AlarmMark,
    Panel,
    component_label,
    level_panels,
    stacked_series_figure,
)

TABLE_PAGE = 100
CHART_POINTS = 1500
FORMAT_NAMES = {ExportFormat.CSV: "CSV", ExportFormat.PARQUET: "Parquet"}
MIME = {ExportFormat.CSV: "text/csv", ExportFormat.PARQUET: "application/vnd.apache.parquet"}


def caption(
    count: int, span: str, *, points: int | None = None, bucket: float | None = None
) -> str:
    """What the chart shows, with the count and its noun in agreement."""
    if points is not None and bucket:
        return (
            f"{wording.count(count, 'measurement')} {span}, shown as {points:,} points of "
            f"{format_duration(bucket)} each (mean line, min-max band)."
        )
    if count == 1:
        return f"1 measurement {span}."
    return f"All {count:,} measurements {span}." if count else f"No measurements {span}."


@dataclass(frozen=True)
class SeriesView:
    component: ComponentRecord
    shown: list[ComponentRecord]  # the component first, then those compared with it
    kinds: list[MeasurementType]
    window: SeriesWindow
    zone: str
    limits: dict[MeasurementType, list[LimitInForce]] = field(default_factory=dict)
    focus: AlarmRecord | None = None  # the alarm a link opened the page on

    def label(self, record: ComponentRecord) -> str:
        return component_label(record.name, record.substation, alone=len(self.shown) == 1)

    def _span(self) -> tuple[datetime, datetime] | None:
        with resources.database().read() as session:
            bounds = [
                series_bounds(session=session, component_id=self.component.id, measurement_type=k)
                for k in self.kinds
            ]
        firsts = [b.first for b in bounds if b.first is not None]
        lasts = [b.last for b in bounds if b.last is not None]
        return (min(firsts), max(lasts)) if firsts and lasts else None

    def draw(self, refreshing: str | None = None) -> None:
        """Charts, captions, downloads and the table, for the range the person chose."""
        span = self._span()
        if span is None:
            names = " or ".join(kind.value for kind in self.kinds)
            st.info(f"No {names} measurements for this component. Pick another measurement.")
            return
        first, last = span
        custom = None
        if self.window is SeriesWindow.CUSTOM:
            zone = ZoneInfo(self.zone)
            custom = st.date_input(
                f"Days ({self.zone})",
                value=custom_days_shown_first(first, last, time_zone=self.zone),
                min_value=first.astimezone(zone).date(),
                max_value=last.astimezone(zone).date(),
                key=f"component.days.{self.component.id}",
            )
        zoom_key = f"component.zoom.{self.component.id}.{self.window.value}"
        with messages.problems_shown():
            start, end = series_window(
                self.window, first=first, last=last, custom=custom, time_zone=self.zone
            )
            mark = self._focus(zoom_key, last)
            start, end = st.session_state.get(zoom_key, (start, end))
            raw_count = self._charts(start, end, zoom_key, mark)
            if refreshing:
                now = wording.when_in(datetime.now(UTC), self.zone)
                st.caption(f"Refreshes every {refreshing}; last at {now}.")
            self._downloads(start, end, raw_count)
            self._table(start, end, raw_count)

    def _focus(self, zoom_key: str, last: datetime) -> AlarmMark | None:
        """The alarm a link names, marked on its chart; the first time, the chart opens on a
        window around it ("Show the whole time range" leaves it)."""
        alarm = self.focus
        if alarm is None:
            return None
        opened = f"component.alarm.{alarm.id}"
        if opened not in st.session_state:
            st.session_state[opened] = True
            st.session_state[zoom_key] = alarm_window(alarm, last)
        return AlarmMark(
            label=f"Alarm #{alarm.id} {alarm_words.kind(alarm)}",
            start=alarm.raised_at,
            end=alarm.cleared_at or max(last, alarm.raised_at),
            limit=alarm.limit,
        )

    def _charts(self, start: datetime, end: datetime, zoom_key: str, mark: AlarmMark | None) -> int:
        span = f"from {wording.when_in(start, self.zone)} to {wording.when_in(end, self.zone)}"
        panels: list[Panel] = []
        captions, raw_count = [], 0
        with resources.database().read() as session:
            for kind in self.kinds:
                series = {
                    record.id: read_series(
                        session=session,
                        component_id=record.id,
                        measurement_type=kind,
                        start=start,
                        end=end,
                        max_points=CHART_POINTS,
                    )
                    for record in self.shown
                }
                labelled = {self.label(r): series[r.id].frame for r in self.shown}
                levels = {self.label(r): r.voltage_kv for r in self.shown}
                marked = mark if self.focus and self.focus.measurement_type == kind else None
                limits = tuple(self.limits.get(kind, ()))
                panels += level_panels(
                    kind,
                    labelled,
                    levels,
                    limits=limits,
                    alarm=marked,
                    owner=self.label(self.component),
                )
                own = series[self.component.id]
                raw_count += own.raw_count
                text = caption(
                    own.raw_count,
                    span,
                    points=own.frame.height if own.downsampled else None,
                    bucket=own.bucket_seconds,
                )
                # Named by type even alone: the page's metric counts every type.
                captions.append(f"{kind.value.capitalize()}: {text}")
        chart = st.plotly_chart(
            stacked_series_figure(panels, time_zone=self.zone),
            on_select="rerun",
            selection_mode="box",
            key=f"{zoom_key}.{start.isoformat()}.{end.isoformat()}",
        )
        zoomed = selection.box_period(chart, time_zone=self.zone)
        if zoomed is not None:  # load finer data for the box the user drew
            st.session_state[zoom_key] = zoomed
            st.rerun()
        for text in captions:
            st.caption(text)
        if any(self.limits.get(kind) for kind in self.kinds):
            st.caption(
                f"Bands: {wording.literal(self.component.name)}'s limits in force, amber from a "
                "warning limit, red from an alarm limit."
            )
        if mark is not None:
            st.caption(
                f"{mark.label}: raised {wording.when_in(mark.start, self.zone)}, "
                + (
                    f"cleared {wording.when_in(self.focus.cleared_at, self.zone)}"
                    if self.focus and self.focus.cleared_at
                    else "still active"
                )
                + " (shaded"
                + ("; its limit is the solid red line)." if mark.limit is not None else ").")
            )
        if any("shown as" in text for text in captions):
            st.caption("Drag a box over the chart to zoom in on finer data.")
        if zoom_key in st.session_state and st.button("Show the whole time range"):
            del st.session_state[zoom_key]
            st.rerun()
        return raw_count

    def _downloads(self, start: datetime, end: datetime, raw_count: int) -> None:
        """Raw measurements for the range and types shown, built only when clicked (a
        million rows are not made on every rerun), and offered up to a size."""
        problem = download_problem(raw_count)
        if problem:
            st.info(problem, icon=":material/download:")
            return

        def export(export_format: ExportFormat) -> bytes:
            with resources.database().read() as session:
                chosen = measurements_export(
                    session=session,
                    component_id=self.component.id,
                    measurement_types=self.kinds,
                    start=start,
                    end=end,
                )
                batches = chosen.batches(session)
                return b"".join(file_chunks(batches, export_format, MEASUREMENT_COLUMNS))

        for column, export_format in zip(st.columns(2), ExportFormat, strict=True):
            column.download_button(
                f"Download {FORMAT_NAMES[export_format]} (raw, this range and these types)",
                data=partial(export, export_format),
                file_name=f"component-{self.component.id}-measurements.{export_format.value}",
                mime=MIME[export_format],
                icon=":material/download:",
                on_click="ignore",
                key=f"component.download.{export_format.value}",
            )

    def _table(self, start: datetime, end: datetime, raw_count: int) -> None:
        st.subheader("Measurements")
        offset = pager.page_offset(TABLE_PAGE, key="component.table.page")
        with resources.database().read() as session:
            rows = list_measurements(
                session=session,
                component_id=self.component.id,
                measurement_types=self.kinds,
                start=start,
                end=end,
                offset=offset,
                limit=TABLE_PAGE,
            )
        time_title = f"Time ({self.zone})"
        local = pl.col("timestamp").dt.convert_time_zone(self.zone).dt.replace_time_zone(None)
        values = (
            [pl.col("value").alias(axis_title(self.kinds[0]))]
            if len(self.kinds) == 1
            else [
                pl.col("measurement_type").str.to_titlecase().alias("Measurement"),
                wording.unit_of(pl.col("measurement_type")),
                pl.col("value").alias("Value"),
            ]
        )
        st.dataframe(
            rows.select(local.alias(time_title), *values),
            hide_index=True,
            column_config={
                time_title: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")
            },
        )
        st.caption("Newest first.")
        pager.pager(raw_count, TABLE_PAGE, key="component.table.page")
