"""The network: substations as nodes and lines as edges, by voltage level; a click opens a
substation or a line. See docs/architecture.md#the-grid-views."""

import polars as pl
import streamlit as st

from core.grid.network import read_network
from views import resources, selection, ui, wording
from views.figures.network_figure import network_view, picked

SHOWN_MATCHES = 12

actor = ui.actor()
st.title("Network")
with (
    resources.database().read() as session,
    st.spinner("Reading the grid (its first layout takes a while)"),
):
    everything = read_network(session=session)
if not everything.substations:
    st.info("No substations yet: the network appears once components are stored.")
    st.page_link("pages/overview.py", label="Overview", icon=":material/dashboard:")
    st.stop()

level_column, search_column = st.columns([2, 1])
levels = level_column.multiselect(
    "Voltage levels",
    everything.levels_kv,
    format_func=lambda level: f"{level:g} kV",
    placeholder="All levels",
    key="network.levels",
)
search = search_column.text_input(
    "Find a substation", placeholder="Part of its name", key="network.search"
)
with resources.database().read() as session:
    network, found, figure = network_view(session=session, levels_kv=levels, search=search)

diagram_column, side_column = st.columns([3, 1])
with diagram_column:
    chart = st.plotly_chart(
        figure,
        on_select="rerun",
        selection_mode="points",
        key="network.chart",
        config={"scrollZoom": True, "displaylogo": False},
    )
    st.caption(
        f"{len(network.substations):,} of "
        f"{wording.count(everything.total_substations, 'substation')} and "
        f"{wording.count(len(network.lines), 'line')}. Wider lines are "
        "longer; lines joining the same two substations bow apart. Click a substation to open "
        "it, or the diamond in the middle of a line to open that line; scroll to zoom. Red: a "
        "line, or a substation with a component, in an active alarm; amber: in a warning and "
        "no alarm (shelved alarms are not shown)."
    )
    points = chart.selection.points if chart is not None else []
    chosen = picked(points)
    if chosen is not None and chosen.kind == "substation":
        st.switch_page("pages/substation.py", query_params={"name": chosen.key})
    elif chosen is not None:
        st.switch_page("pages/component.py", query_params={"component": chosen.key})

with side_column:
    if search.strip():
        st.markdown(f"**{wording.count(len(found), 'substation')} found**")
        for name in found[:SHOWN_MATCHES]:
            st.page_link(
                "pages/substation.py",
                label=wording.literal(name),
                query_params={"name": name},
                icon=":material/location_on:",
            )
        if len(found) > SHOWN_MATCHES:
            st.caption(f"... and {len(found) - SHOWN_MATCHES:,} more: type more of the name.")
    count = len(network.unconnected)
    st.markdown(f"**{wording.count(count, 'line')} without a second end**")
    if network.unconnected:
        row = selection.picked_row(
            pl.DataFrame(
                {
                    "Line": [line.name for line in network.unconnected],
                    "Substation": [line.substation for line in network.unconnected],
                    "Voltage (kV)": [line.voltage_kv for line in network.unconnected],
                    "Length (km)": [line.length_km for line in network.unconnected],
                }
            ),
            key="network.unconnected",
            height=400,
        )
        if row is not None:
            line_id = str(network.unconnected[row].id)
            st.switch_page("pages/component.py", query_params={"component": line_id})
        st.caption(
            "Lines whose other substation is not stored (0.4 kV lines leave to customers). "
            "Select one to open it; a manager can add its other end."
        )
