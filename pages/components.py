"""Components: search, filter, sort and page through the inventory; pick one to open it.
See docs/design.md#components."""

import polars as pl
import streamlit as st

from core.domain import ComponentType
from core.exports import ExportFormat, components_frame, frame_bytes
from core.grid.components import ComponentPage, ComponentSort, list_components, list_substations
from views import pager, resources, selection, ui, wording

PAGE_SIZE = 50
# Number columns, written as text (a type without the field is an empty cell) and aligned as
# numbers are.
NUMBERS = ("Voltage (kV)", "Capacity (MVA)", "Length (km)")
PAGER = "components.page"
SORTS = {
    "Name": ComponentSort.NAME,
    "Substation": ComponentSort.SUBSTATION,
    "Type": ComponentSort.COMPONENT_TYPE,
    "Voltage": ComponentSort.VOLTAGE_KV,
    "Capacity": ComponentSort.CAPACITY_MVA,
    "Length": ComponentSort.LENGTH_KM,
    "Last changed": ComponentSort.UPDATED_AT,
}


def _first_page() -> None:
    # Forget the pager's page rather than set it: a widget whose state is written through
    # st.session_state and that also has a default makes Streamlit log a warning.
    st.session_state.pop(PAGER, None)


actor = ui.actor()
st.title("Components")
with resources.database().read() as session:
    substations = list_substations(session=session)

# Two rows: in a quarter of the width, a chosen type's chip was cut off ("ansformer").
search_column, sort_column, order_column = st.columns([5, 3, 2], vertical_alignment="bottom")
search = search_column.text_input(
    "Search", placeholder="Name or substation", key="components.search", on_change=_first_page
)
type_column, substation_column = st.columns([2, 3])
types = type_column.multiselect(
    "Type",
    list(ComponentType),
    format_func=str.capitalize,
    placeholder="All types",
    on_change=_first_page,
)
chosen_substations = substation_column.multiselect(
    "Substation", substations, placeholder="All substations", on_change=_first_page
)
sort = sort_column.selectbox("Sort by", list(SORTS), on_change=_first_page)
descending = order_column.toggle("Descending", on_change=_first_page)


def _load(offset: int) -> ComponentPage:
    with resources.database().read() as session:
        return list_components(
            session=session,
            search=search,
            component_types=frozenset(types),
            substations=frozenset(chosen_substations),
            sort=SORTS[sort],
            descending=descending,
            offset=offset,
            limit=PAGE_SIZE,
        )


offset = pager.page_offset(PAGE_SIZE, key=PAGER)
page = _load(offset)
if page.total and offset >= page.total:  # the filters shrank the list under this page
    _first_page()
    page = _load(0)

counts = st.columns(4)
counts[0].metric("Components", f"{page.total:,}")
for column, (kind, count) in zip(counts[1:], page.counts_by_type.items(), strict=True):
    column.metric(wording.TYPE_PLURALS[kind.value], f"{count:,}")

if page.total == 0:
    if search or types or chosen_substations:
        st.info("No component matches. Clear the search or the filters to see every component.")
    elif actor.is_manager:
        st.info("No components yet. Create the first one, or import a CSV file of them.")
        st.page_link("pages/manage-components.py", label="Manage components", icon=":material/add:")
    else:
        st.info("No components yet. A manager adds them; ask one, or check back later.")
    st.stop()

table = pl.DataFrame(
    {
        "Name": [c.name for c in page.items],
        "Substation": [c.substation for c in page.items],
        "Type": [c.component_type.value.capitalize() for c in page.items],
        # a field a type does not have is an empty cell, not a grey "None"
        "Voltage (kV)": [wording.number(c.voltage_kv, blank="") for c in page.items],
        "Capacity (MVA)": [wording.number(c.capacity_mva, blank="") for c in page.items],
        "Length (km)": [wording.number(c.length_km, blank="") for c in page.items],
        "Switch": [c.status.value.capitalize() if c.status else "" for c in page.items],
        "Last changed": [c.updated_at for c in page.items],
    }
)
row = selection.picked_row(
    table,
    key="components.table",
    times=("Last changed",),
    height="content",  # the whole page of rows, in the page's own scroll: no 10-row box
    column_config={
        "Type": st.column_config.TextColumn(width=110),  # "Transformer" whole
        **{name: st.column_config.TextColumn(alignment="right") for name in NUMBERS},
    },
)
if row is not None:
    st.switch_page("pages/component.py", query_params={"component": str(page.items[row].id)})


def _export() -> bytes:
    with resources.database().read() as session:
        frame = components_frame(
            session=session,
            search=search,
            component_types=types,
            substations=chosen_substations,
            sort=SORTS[sort],
            descending=descending,
        )
    return frame_bytes(frame, ExportFormat.CSV)


pager.filtered_csv(wording.count(page.total, "component"), _export, "gridboard-components.csv")
shown_to = min(page.offset + PAGE_SIZE, page.total)
st.caption(f"{page.offset + 1:,}-{shown_to:,} of {page.total:,}. Select a row to open it.")
pager.pager(page.total, PAGE_SIZE, key=PAGER)
