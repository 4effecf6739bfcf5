"""Overview, the first page: the alarms first, then what the grid holds, what is measured, what
is stale, and the latest reports, each with a way into the page that shows more.
See docs/architecture.md#the-grid-views."""

import polars as pl
import streamlit as st

from core.alarms.summary import read_summary
from core.grid.overview import read_overview
from views import alarm_sections, resources, selection, ui, wording

actor = ui.actor()
st.title("Overview")
with resources.database().read() as session:
    grid = read_overview(session=session)
    alarms = read_summary(session=session)

if grid.components == 0:
    if actor.is_manager:
        st.info("No components yet. Create the first one, or import a CSV file of them.")
        st.page_link("pages/manage-components.py", label="Manage components", icon=":material/add:")
    else:
        st.info("No components yet. A manager adds them; ask one, or check back later.")
    st.stop()

alarm_sections.overview(alarms)
st.divider()

span = (
    f"{wording.when(grid.first_measurement)} to {wording.when(grid.last_measurement)}"
    if grid.first_measurement and grid.last_measurement
    else "no measurements yet"
)
counts = st.columns(5)
counts[0].metric("Components", f"{grid.components:,}")
for column, (kind, count) in zip(counts[1:4], grid.counts_by_type.items(), strict=True):
    column.metric(wording.TYPE_PLURALS[kind.value], f"{count:,}")
counts[4].metric("Substations", f"{len(grid.substations):,}")
st.caption(f"{wording.count(grid.measurements, 'measurement')}, {span}.")
links = st.columns(3)
links[0].page_link("pages/components.py", label="All components", icon=":material/account_tree:")
links[1].page_link("pages/network.py", label="The network", icon=":material/hub:")
links[2].page_link("pages/reports.py", label="All reports", icon=":material/summarize:")

levels_column, reports_column = st.columns(2)
with levels_column:
    st.subheader("By type and voltage level")
    st.dataframe(
        pl.DataFrame(
            {
                "Type": [level.component_type.value for level in grid.counts_by_level],
                "Voltage (kV)": [level.voltage_kv for level in grid.counts_by_level],
                "Components": [level.count for level in grid.counts_by_level],
            },
            schema={"Type": pl.String, "Voltage (kV)": pl.Float64, "Components": pl.Int64},
        ),
        hide_index=True,
    )

with reports_column:
    st.subheader("Latest reports")
    if grid.latest_reports:
        row = selection.picked_row(
            pl.DataFrame(
                {
                    "Report": [f"#{report.id}" for report in grid.latest_reports],
                    "Period": [
                        wording.period(report.period_start, report.period_end, report.time_zone)
                        for report in grid.latest_reports
                    ],
                    "Finished": [
                        wording.when(report.finished_at) for report in grid.latest_reports
                    ],
                    "Asked by": [report.requested_by for report in grid.latest_reports],
                }
            ),
            key="overview.reports",
        )
        if row is not None:
            chosen = grid.latest_reports[row]
            st.switch_page("pages/report.py", query_params={"report": str(chosen.id)})
        st.caption("Completed reports, newest first. Select one to open it.")
    else:
        st.info("No completed report yet.")

st.subheader("Data freshness")
if grid.stale_since is None:
    st.info("No measurements yet, so nothing is fresh or stale.")
else:
    st.caption(
        f"The newest measurement is from {wording.when(grid.last_measurement)}. A component is "
        f"stale without a measurement since {wording.when(grid.stale_since)}, the last day of data."
    )
substations_column, stale_column = st.columns(2)
with substations_column:
    st.markdown("**Newest measurement per substation**")
    row = selection.picked_row(
        pl.DataFrame(
            {
                "Substation": [state.substation for state in grid.substations],
                "Components": [state.components for state in grid.substations],
                "Newest measurement": [state.newest for state in grid.substations],
                "Stale": [state.stale for state in grid.substations],
            },
            schema={
                "Substation": pl.String,
                "Components": pl.Int64,
                "Newest measurement": pl.Datetime("us", "UTC"),
                "Stale": pl.Int64,
            },
        ),
        key="overview.substations",
        times=("Newest measurement",),
    )
    if row is not None:
        name = grid.substations[row].substation
        st.switch_page("pages/substation.py", query_params={"name": name})
    st.caption("Select a substation to open it.")
with stale_column:
    stale = len(grid.stale)
    st.markdown(f"**{wording.count(stale, 'stale component')}**")
    if grid.stale:
        row = selection.picked_row(
            pl.DataFrame(
                {
                    "Name": [component.name for component in grid.stale],
                    "Substation": [component.substation for component in grid.stale],
                    "Type": [component.component_type.value for component in grid.stale],
                    "Newest measurement": [component.newest for component in grid.stale],
                },
                schema={
                    "Name": pl.String,
                    "Substation": pl.String,
                    "Type": pl.String,
                    "Newest measurement": pl.Datetime("us", "UTC"),
                },
            ),
            key="overview.stale",
            times=("Newest measurement",),
        )
        if row is not None:
            chosen_id = grid.stale[row].id
            st.switch_page("pages/component.py", query_params={"component": str(chosen_id)})
        st.caption("Never measured first, then the longest silent. Select one to open it.")
    else:
        st.success("Every component has a measurement in the last day of data.")
