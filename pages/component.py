"""One component (``?component=ID``): its attributes, a chart of its measurements, a table."""

import polars as pl
import streamlit as st

from core.charts import series_figure
from core.components import count_measurements, get_component
from core.domain import MEASUREMENT_UNITS, MeasurementType
from core.errors import ComponentNotFound
from core.measurements import list_measurements, read_series, series_bounds
from core.periods import SeriesWindow, series_window
from views import ui

TABLE_PAGE = 100
CHART_POINTS = 1500

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
    + (f" to **{ui.literal(component.to_substation)}**" if component.to_substation else "")
    + f" · last changed {ui.when(component.updated_at)} by {ui.literal(component.updated_by)}"
)
for end in filter(None, (component.substation, component.to_substation)):
    st.page_link(
        "pages/substation.py",
        label=f"Substation {ui.literal(end)}",
        query_params={"name": end},
        icon=":material/location_on:",
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
kind = kind_column.segmented_control(
    "Measurement",
    list(MeasurementType),
    format_func=str.capitalize,
    default=MeasurementType.VOLTAGE,
    required=True,
)
window = window_column.segmented_control(
    "Time range",
    list(SeriesWindow),
    format_func=str.capitalize,
    default=SeriesWindow.ALL_DATA,
    required=True,
)

with ui.database().read() as session:
    bounds = series_bounds(session=session, component_id=component.id, measurement_type=kind)
if bounds.first is None or bounds.last is None:
    st.info(f"No {kind.value} measurements for this component. Pick another measurement.")
    st.stop()
custom = None
if window is SeriesWindow.CUSTOM:
    custom = st.date_input(
        "Days (UTC)",
        value=(bounds.last.date(), bounds.last.date()),
        min_value=bounds.first.date(),
        max_value=bounds.last.date(),
    )
zoom_key = f"component.zoom.{component.id}.{kind.value}.{window.value}"
with ui.problems_shown():
    start, end = series_window(window, first=bounds.first, last=bounds.last, custom=custom)
    start, end = st.session_state.get(zoom_key, (start, end))
    with ui.database().read() as session:
        series = read_series(
            session=session,
            component_id=component.id,
            measurement_type=kind,
            start=start,
            end=end,
            max_points=CHART_POINTS,
        )
    chart = st.plotly_chart(
        series_figure(series.frame, measurement_type=kind),
        on_select="rerun",
        selection_mode="box",
        key=f"{zoom_key}.{start.isoformat()}.{end.isoformat()}",
    )
    zoomed = ui.box_period(chart)
    if zoomed is not None:  # load finer data for the box the user drew
        st.session_state[zoom_key] = zoomed
        st.rerun()
    if series.downsampled and series.bucket_seconds:
        st.caption(
            f"{series.raw_count:,} measurements from {ui.when(start)} to {ui.when(end)}, shown "
            f"as {series.frame.height:,} points of {ui.duration(series.bucket_seconds)} each "
            "(mean line, min-max band). Drag a box over the chart to zoom in on finer data."
        )
    else:
        st.caption(
            f"All {series.raw_count:,} measurements from {ui.when(start)} to {ui.when(end)}."
        )
    if zoom_key in st.session_state and st.button("Show the whole time range"):
        del st.session_state[zoom_key]
        st.rerun()

    st.subheader("Measurements")
    offset = ui.page_offset(TABLE_PAGE, key="component.table.page")
    with ui.database().read() as session:
        rows = list_measurements(
            session=session,
            component_id=component.id,
            measurement_type=kind,
            start=start,
            end=end,
            offset=offset,
            limit=TABLE_PAGE,
        )
    st.dataframe(
        rows.select(
            pl.col("timestamp").alias("Time (UTC)"),
            pl.col("value").alias(f"{kind.value.capitalize()} ({MEASUREMENT_UNITS[kind]})"),
        ),
        hide_index=True,
        column_config={"Time (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
    )
    st.caption("Newest first.")
    ui.pager(series.raw_count, TABLE_PAGE, key="component.table.page")
