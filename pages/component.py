"""One component (``?component=ID``, ``&alarm=ID`` opens the chart on that alarm): attributes,
charts of several measurement types on one time axis (others overlaid, limits as bands), a
table, raw downloads and its alarms. See docs/design.md#measurements."""

from datetime import timedelta

import streamlit as st

from core.alarms.summary import component_alarms, limits_in_force
from core.domain import MeasurementType
from core.errors import UnknownComponent
from core.grid.components import ComponentRecord, count_measurements, get_component, list_components
from core.reports.compute import time_zone_names
from core.reports.periods import SeriesWindow
from views import alarm_sections, resources, selection, ui, wording
from views.measurement_deletion import delete_measurements_form
from views.series_view import SeriesView
from views.widgets import REFRESH, kept_open

MAX_COMPARED = 9  # with the component itself, ten lines per chart
COMPARE_OPEN = "compare.open"
LISTED_ALARMS = 100

actor = ui.actor()
component_id = selection.query_id("component")
if component_id is None:
    selection.none_picked(
        "Pick a component on the Components page to see it here.",
        page="pages/components.py",
        label="Components",
        icon=":material/account_tree:",
    )
with (
    selection.gone_back_to("pages/components.py", "Back to Components", UnknownComponent),
    resources.database().read() as session,
):
    component = get_component(session=session, component_id=component_id)
    stored = count_measurements(session=session, component_id=component_id)
    limits = limits_in_force(session=session, component_id=component_id)
    alarms = component_alarms(session=session, component_id=component_id, limit=LISTED_ALARMS)
focus = alarm_sections.linked_alarm(component_id)

st.title(wording.literal(component.name))
st.caption(
    f"{component.component_type.value.capitalize()} in substation "
    f"**{wording.literal(component.substation)}**"
    + (f" to **{wording.literal(component.to_substation)}**" if component.to_substation else "")
    + f" · last changed {wording.when(component.updated_at)}"
    + f" by {wording.literal(component.updated_by)}"
)
for end in filter(None, (component.substation, component.to_substation)):
    st.page_link(
        "pages/substation.py",
        label=f"Substation {wording.literal(end)}",
        query_params={"name": end},
        icon=":material/location_on:",
    )
facts = {
    "Voltage": wording.number(component.voltage_kv, "kV"),
    "Capacity": wording.number(component.capacity_mva, "MVA"),
    "Length": wording.number(component.length_km, "km"),
    "Switch": component.status.value if component.status else "-",
}
ALL_TYPES = "Measurements (all types)"  # the charts' captions count one type each
facts[ALL_TYPES] = f"{stored:,}"
facts["Active alarms"] = f"{alarms.active:,}"
shown = [name for name in facts if facts[name] != "-"]
for column, name in zip(st.columns(len(shown)), shown, strict=True):
    column.metric(name, facts[name])
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
    alarm_sections.component_list(alarms)
    st.stop()
if actor.is_manager:
    delete_measurements_form(component, actor)

kind_column, window_column = st.columns([1, 2])
opened_on = focus.measurement_type if focus and focus.measurement_type else None
kinds = kind_column.segmented_control(
    "Measurements",
    list(MeasurementType),
    format_func=str.capitalize,
    selection_mode="multi",
    default=[opened_on or MeasurementType.VOLTAGE],
    key=f"component.kinds.{focus.id}" if focus else "component.kinds",
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
browser_zone = ui.browser_zone()
zone = zone_column.selectbox(
    "Time zone", zones, index=zones.index(browser_zone), key="component.zone"
)
refresh = refresh_column.segmented_control(
    "Auto-refresh", list(REFRESH), default="off", required=True, key="component.refresh"
)


def _compared_choices(search: str, chosen: list[int]) -> dict[int, ComponentRecord]:
    with resources.database().read() as session:
        found = list_components(session=session, search=search, limit=50).items
        kept = [get_component(session=session, component_id=i) for i in chosen]
    return {c.id: c for c in [*kept, *found] if c.id != component.id}


with compare_column.expander("Compare with other components", key=COMPARE_OPEN, on_change="rerun"):
    search = st.text_input(
        "Find components",
        placeholder="Name or substation",
        key="compare.q",
        on_change=kept_open(COMPARE_OPEN),
    )
    choices = _compared_choices(search, list(st.session_state.get("compare.ids", [])))
    compared = st.multiselect(
        f"Overlaid on the charts (up to {MAX_COMPARED})",
        list(choices),
        format_func=lambda i: f"{choices[i].name} · {choices[i].substation}",
        max_selections=MAX_COMPARED,
        key="compare.ids",
        on_change=kept_open(COMPARE_OPEN),
    )
if kinds:
    charted = [component, *(choices[i] for i in compared if i in choices)]
    seconds = REFRESH[refresh]
    view = SeriesView(
        component=component, shown=charted, kinds=kinds, window=window, zone=zone,
        limits=limits, focus=focus,
    )  # fmt: skip
    st.fragment(view.draw, run_every=timedelta(seconds=seconds) if seconds else None)(
        refreshing=refresh if seconds else None
    )
else:
    st.info("Pick one or more measurements to chart.")
alarm_sections.component_list(alarms)
