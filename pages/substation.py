"""One substation (``?name=...``): its single-line diagram, live; its components by type with
their latest values, the lines that connect it, and charts of recent measurements.
See docs/architecture.md#the-grid-views."""

import polars as pl
import streamlit as st

from core.domain import MEASUREMENT_UNITS, ComponentType, MeasurementType
from core.errors import UnknownSubstation
from core.grid.substations import CHART_DAYS, Member, read_substation, substation_series
from views import resources, selection, ui, wording
from views.diagram import live_diagram
from views.figures.charts import components_figure

actor = ui.actor()
name = st.query_params.get("name", "")
if not name.strip():
    selection.none_picked(
        "Pick a substation on the Network or the Overview page to see it here.",
        page="pages/network.py",
        label="Network",
        icon=":material/hub:",
    )
with (
    selection.gone_back_to("pages/network.py", "Back to the network", UnknownSubstation),
    resources.database().read() as session,
):
    view = read_substation(session=session, name=name)

st.title(wording.literal(view.name))
st.caption(
    f"Substation · {wording.count(len(view.members), 'component')} · lines connecting it: "
    f"{len(view.connections):,} · newest measurement {wording.when(view.newest) or 'none yet'}"
)
st.page_link("pages/network.py", label="Back to the network", icon=":material/hub:")
live_diagram(view.name)


def _latest(member: Member, kind: MeasurementType) -> float | None:
    found = member.latest.get(kind)
    return None if found is None else found.value


for kind in ComponentType:
    members = view.of_type(kind)
    if not members:
        continue
    st.subheader(f"{wording.TYPE_PLURALS[kind.value]} ({len(members)})")
    table = {
        "Name": [m.component.name for m in members],
        "Voltage (kV)": [m.component.voltage_kv for m in members],
        "Capacity (MVA)": [m.component.capacity_mva for m in members],
        "Length (km)": [m.component.length_km for m in members],
        "To substation": [m.component.to_substation for m in members],
        "Switch": [m.component.status.value if m.component.status else None for m in members],
        **{
            f"Latest {t.value} ({MEASUREMENT_UNITS[t]})": [_latest(m, t) for m in members]
            for t in MeasurementType
        },
        "Latest at": [max((v.timestamp for v in m.latest.values()), default=None) for m in members],
    }
    frame = pl.DataFrame(table, strict=False)
    frame = frame.select(c for c in frame.columns if frame[c].null_count() < frame.height)
    row = selection.picked_row(
        frame,
        key=f"substation.{kind.value}",
        times=("Latest at",),
    )
    if row is not None:
        chosen = str(members[row].component.id)
        st.switch_page("pages/component.py", query_params={"component": chosen})

st.subheader("Connections")
if view.connections:
    for connection in view.connections:
        line = connection.line
        where = (
            f"to **{wording.literal(connection.other_end)}**"
            if connection.starts_here and connection.other_end
            else f"from **{wording.literal(connection.other_end)}**"
            if connection.other_end
            else "with no second end stored"
        )
        left, right = st.columns([3, 1])
        left.page_link(
            "pages/component.py",
            label=f"{wording.literal(line.name)} · {wording.number(line.voltage_kv, 'kV')} · "
            f"{wording.number(line.length_km, 'km')}",
            query_params={"component": str(line.id)},
            icon=":material/timeline:",
        )
        left.caption(f"Line {where}")
        if connection.other_end:
            right.page_link(
                "pages/substation.py",
                label=wording.literal(connection.other_end),
                query_params={"name": connection.other_end},
                icon=":material/location_on:",
            )
else:
    st.info("No line connects this substation.")

st.subheader("Measurements")
charted = st.segmented_control(
    "Measurement",
    list(MeasurementType),
    format_func=str.capitalize,
    default=MeasurementType.VOLTAGE,
    required=True,
    key="substation.measurement",
)
with resources.database().read() as session:
    series = substation_series(session=session, view=view, measurement_type=charted)
labels = {m.component.id: m.component.name for m in view.members}
st.plotly_chart(
    components_figure(
        {labels[cid]: s.frame for cid, s in series.items()},
        measurement_type=charted,
        levels={m.component.name: m.component.voltage_kv for m in view.members},
    ),
    key=f"substation.chart.{charted.value}",
)
if series:
    st.caption(
        f"The last {CHART_DAYS} days up to the newest measurement here, one line per "
        "component (the mean of each point's time bucket), a panel per voltage level. Open a "
        "component for its full data."
    )
