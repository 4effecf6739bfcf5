"""One component (``?component=ID``): its attributes; charts of several measurement types
stacked on one time axis, other components overlaid, in the person's time zone, refreshed
on request; a table; raw downloads."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from core.charts import Panel, axis_title, stacked_series_figure
from core.components import ComponentRecord, count_measurements, get_component, list_components
from core.domain import MeasurementType
from core.errors import ComponentNotFound
from core.exports import ExportFormat, frame_bytes, measurements_frame
from core.measurements import list_measurements, read_series, series_bounds
from core.periods import SeriesWindow, custom_days_shown_first, series_window
from core.reports.compute import time_zone_names
from views import ui

TABLE_PAGE = 100
CHART_POINTS = 1500
MAX_COMPARED = 9  # with the component itself, ten lines per chart
FORMAT_NAMES = {ExportFormat.CSV: "CSV", ExportFormat.PARQUET: "Parquet"}
REFRESH = {"off": None, "10 s": 10, "1 min": 60}

actor = ui.actor()
component_id = ui.query_id("component")
if component_id is None:
    st.info("Pick a component on the Components page to see it here.")
    st.page_link("pages/components.py", label="Components", icon=":material/account_tree:")
    st.stop()
try:
    with ui.database().read() as session:
        component = get_component(session=session, component_id=component_id)
        stored = count_measurements(session=session, component_id=component_id)
except ComponentNotFound as error:
    ui.show_error(error)
    st.page_link("pages/components.py", label="Back to Components", icon=":material/arrow_back:")
    st.stop()

st.title(ui.literal(component.name))
st.caption(
    f"{component.component_type.value.capitalize()} in substation "
    f"**{ui.literal(component.substation)}**"
    f" · last changed {ui.when(component.updated_at)} by {ui.literal(component.updated_by)}"
)
facts = {
    "Voltage": ui.number(component.voltage_kv, "kV"),
    "Capacity": ui.number(component.capacity_mva, "MVA"),
    "Length": ui.number(component.length_km, "km"),
    "Switch": component.status.value if component.status else "-",
}
shown = [name for name in facts if facts[name] != "-"] + ["Measurements"]
for column, name in zip(st.columns(len(shown)), shown, strict=True):
    column.metric(name, facts.get(name, f"{stored:,}"))
if actor.is_manager:
    st.page_link(
        "pages/manage-components.py",
        label="Edit or delete this component",
        icon=":material/edit:",
        query_params={"component": str(component.id)},
    )

if stored == 0:
    st.info("No measurements for this component yet.")
    if actor.is_manager:
        st.page_link("pages/measurements.py", label="Add or import some", icon=":material/add:")
    st.stop()

kind_column, window_column = st.columns([1, 2])
kinds = kind_column.segmented_control(
    "Measurements",
    list(MeasurementType),
    format_func=str.capitalize,
    selection_mode="multi",
    default=[MeasurementType.VOLTAGE],
    key="component.kinds",
)
kinds = [kind for kind in MeasurementType if kind in kinds]  # charts in a fixed order
window = window_column.segmented_control(
    "Time range",
    list(SeriesWindow),
    format_func=str.capitalize,
    default=SeriesWindow.ALL_DATA,
    required=True,
)
zone_column, compare_column, refresh_column = st.columns([1, 2, 1])
zones = sorted(time_zone_names())
browser_zone = st.context.timezone if st.context.timezone in zones else "UTC"
zone = zone_column.selectbox(
    "Time zone", zones, index=zones.index(browser_zone), key="component.zone"
)
refresh = refresh_column.segmented_control(
    "Auto-refresh", list(REFRESH), default="off", required=True, key="component.refresh"
)


def _compared_choices(search: str, chosen: list[int]) -> dict[int, ComponentRecord]:
    with ui.database().read() as session:
        found = list_components(session=session, search=search, limit=50).items
        kept = [get_component(session=session, component_id=i) for i in chosen]
    return {c.id: c for c in [*kept, *found] if c.id != component.id}


with compare_column.expander("Compare with other components"):
    search = st.text_input("Find components", placeholder="Name or substation", key="compare.q")
    choices = _compared_choices(search, list(st.session_state.get("compare.ids", [])))
    compared = st.multiselect(
        f"Overlaid on the charts (up to {MAX_COMPARED})",
        list(choices),
        format_func=lambda i: f"{choices[i].name} · {choices[i].substation}",
        max_selections=MAX_COMPARED,
        key="compare.ids",
    )
if not kinds:
    st.info("Pick one or more measurements to chart.")
    st.stop()
shown = [component, *(choices[i] for i in compared if i in choices)]


def _label(record: ComponentRecord) -> str:
    return f"{record.name} · {record.substation}" if len(shown) > 1 else record.name


def _caption(
    count: int, start: datetime, end: datetime, points: int | None, bucket: float | None
) -> str:
    span = f"from {ui.when_in(start, zone)} to {ui.when_in(end, zone)}"
    if points is not None and bucket:
        return (
            f"{ui.count(count, 'measurement')} {span}, shown as {points:,} points of "
            f"{ui.duration(bucket)} each (mean line, min-max band)."
        )
    if count == 1:
        return f"1 measurement {span}."
    return f"All {count:,} measurements {span}." if count else f"No measurements {span}."


def charts() -> None:
    """The charts, their captions and the table: re-run alone by the auto-refresh."""
    with ui.database().read() as session:
        bounds = [
            series_bounds(session=session, component_id=component.id, measurement_type=kind)
            for kind in kinds
        ]
    firsts = [b.first for b in bounds if b.first is not None]
    lasts = [b.last for b in bounds if b.last is not None]
    if not firsts or not lasts:
        names = " or ".join(kind.value for kind in kinds)
        st.info(f"No {names} measurements for this component. Pick another measurement.")
        return
    first, last = min(firsts), max(lasts)
    custom = None
    if window is SeriesWindow.CUSTOM:
        custom = st.date_input(
            f"Days ({zone})",
            value=custom_days_shown_first(first, last, time_zone=zone),
            min_value=first.astimezone(ZoneInfo(zone)).date(),
            max_value=last.astimezone(ZoneInfo(zone)).date(),
            key=f"component.days.{component.id}",
        )
    zoom_key = f"component.zoom.{component.id}.{window.value}"
    with ui.problems_shown():
        start, end = series_window(window, first=first, last=last, custom=custom, time_zone=zone)
        start, end = st.session_state.get(zoom_key, (start, end))
        panels, captions, raw_count = [], [], 0
        with ui.database().read() as session:
            for kind in kinds:
                series = {
                    _label(record): read_series(
                        session=session,
                        component_id=record.id,
                        measurement_type=kind,
                        start=start,
                        end=end,
                        max_points=CHART_POINTS,
                    )
                    for record in shown
                }
                panels.append(Panel(kind, {label: s.frame for label, s in series.items()}))
                own = series[_label(component)]
                raw_count += own.raw_count
                text = _caption(
                    own.raw_count,
                    start,
                    end,
                    own.frame.height if own.downsampled else None,
                    own.bucket_seconds,
                )
                captions.append(f"{kind.value.capitalize()}: {text}" if len(kinds) > 1 else text)
        chart = st.plotly_chart(
            stacked_series_figure(panels, time_zone=zone),
            on_select="rerun",
            selection_mode="box",
            key=f"{zoom_key}.{start.isoformat()}.{end.isoformat()}",
        )
        zoomed = ui.box_period(chart, time_zone=zone)
        if zoomed is not None:  # load finer data for the box the user drew
            st.session_state[zoom_key] = zoomed
            st.rerun()
        for text in captions:
            st.caption(text)
        if any("shown as" in text for text in captions):
            st.caption("Drag a box over the chart to zoom in on finer data.")
        if zoom_key in st.session_state and st.button("Show the whole time range"):
            del st.session_state[zoom_key]
            st.rerun()
        if REFRESH[refresh]:
            st.caption(f"Refreshes every {refresh}; last at {ui.when_in(datetime.now(UTC), zone)}.")

        downloads(start, end)
        st.subheader("Measurements")
        offset = ui.page_offset(TABLE_PAGE, key="component.table.page")
        with ui.database().read() as session:
            rows = list_measurements(
                session=session,
                component_id=component.id,
                measurement_types=kinds,
                start=start,
                end=end,
                offset=offset,
                limit=TABLE_PAGE,
            )
        time_title = f"Time ({zone})"
        local = pl.col("timestamp").dt.convert_time_zone(zone).dt.replace_time_zone(None)
        values = (
            [pl.col("value").alias(axis_title(kinds[0]))]
            if len(kinds) == 1
            else [
                pl.col("measurement_type").str.to_titlecase().alias("Measurement"),
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
        st.caption(
            "Newest first."
            + ("" if len(kinds) == 1 else " Units: voltage kV, current A, power MW.")
        )
        ui.pager(raw_count, TABLE_PAGE, key="component.table.page")


def downloads(start: datetime, end: datetime) -> None:
    """Raw measurements of this component for the range and types shown, built only when
    the person clicks (a million rows are not made on every rerun)."""

    def export(export_format: ExportFormat) -> bytes:
        with ui.database().read() as session:
            frame = measurements_frame(
                session=session,
                component_id=component.id,
                measurement_types=kinds,
                start=start,
                end=end,
            )
        return frame_bytes(frame, export_format)

    stem = f"{component.name}-{component.substation}-measurements"
    csv_column, parquet_column = st.columns(2)
    for column, export_format, mime in (
        (csv_column, ExportFormat.CSV, "text/csv"),
        (parquet_column, ExportFormat.PARQUET, "application/vnd.apache.parquet"),
    ):
        column.download_button(
            f"Download {FORMAT_NAMES[export_format]} (raw, this range and these types)",
            data=lambda chosen=export_format: export(chosen),
            file_name=f"{stem}.{export_format.value}",
            mime=mime,
            icon=":material/download:",
            on_click="ignore",
            key=f"component.download.{export_format.value}",
        )


seconds = REFRESH[refresh]
st.fragment(charts, run_every=timedelta(seconds=seconds) if seconds else None)()
