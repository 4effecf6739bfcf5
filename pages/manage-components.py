"""Manage components (manager): create, edit (type change included), delete, import CSV.
See docs/design.md#components."""

import streamlit as st

from core.domain import ComponentType
from core.grid.components import (
    count_measurements,
    create_component,
    delete_component,
    update_component,
)
from core.imports import COMPONENTS_HEADER, COMPONENTS_TEMPLATE_CSV
from views import messages, resources, selection, ui, widgets, wording
from views.component_form import component_fields
from views.substation_picker import substation_places
from views.substations_section import substations_section

actor = ui.require_manager("create, edit, delete or import components")
st.title("Manage components")
TASKS = ["Create", "Edit or delete", "Import CSV", "Substations"]
linked = selection.query_id("component")
TASK_KEY = "manage.task"
if TASK_KEY not in st.session_state:  # the first run of a visit: a link opens Edit
    st.session_state[TASK_KEY] = TASKS[1] if linked else TASKS[0]
# No default that changes with the URL: the task stays what the person chose while they
# rename, retype or delete (a new default would make it a new widget, back on "Create").
task = st.segmented_control("What would you like to do?", TASKS, required=True, key=TASK_KEY)
PICKER = "edit"


def _and_its(measured: int) -> str:
    """`` and its 3 measurements`` after a component's name; nothing when it has none."""
    return f" and its {wording.count(measured, 'measurement')}" if measured else ""


SEARCH_KEY, PICKED_KEY = widgets.picker_keys(PICKER)


if task == "Create":
    types: list[ComponentType] = list(ComponentType)  # typed apart: see pages/measurements.py
    kind = st.radio("Type", types, format_func=str.capitalize, horizontal=True)
    places = substation_places(kind, None, "create")
    with st.form("create-component"):
        fields = component_fields(kind, None, "create", places)
        submitted = st.form_submit_button("Create component", type="primary")
    if submitted:
        with messages.problems_shown():
            with resources.database().write() as session:
                created = create_component(session=session, actor=actor, fields=fields)
            st.success(
                f"Created {wording.literal(created.name)} in {wording.literal(created.substation)}."
            )
            st.page_link(
                "pages/component.py",
                label=f"Open {wording.literal(created.name)}",
                query_params={"component": str(created.id)},
            )

elif task == "Edit or delete":
    chosen = widgets.pick_component(key=PICKER, linked=linked)
    if chosen is None:
        st.stop()
    st.subheader(f"Edit {wording.literal(chosen.name)}")
    types = list(ComponentType)
    kind = st.radio(
        "Type",
        types,
        index=types.index(chosen.component_type),
        format_func=str.capitalize,
        horizontal=True,
        key=f"edit.{chosen.id}.type",
    )
    if kind is not chosen.component_type:
        st.caption(f"Saving makes it a {kind.value}; the fields of a {chosen.component_type} go.")
    places = substation_places(kind, chosen, f"edit.{chosen.id}")
    with st.form(f"edit-component-{chosen.id}"):
        fields = component_fields(kind, chosen, f"edit.{chosen.id}", places)
        saved = st.form_submit_button("Save changes", type="primary")
    if saved:
        with messages.problems_shown():
            with resources.database().write() as session:
                update_component(
                    session=session, actor=actor, component_id=chosen.id, fields=fields
                )
            messages.flash(f"Saved {wording.literal(fields['name'].strip())}.")
            # follow the component: by id in the URL, not by a search its new name may miss
            st.query_params["component"] = str(chosen.id)
            st.session_state.pop(SEARCH_KEY, None)
            st.rerun()

    st.subheader(f"Delete {wording.literal(chosen.name)}")
    with resources.database().read() as session:
        measured = count_measurements(session=session, component_id=chosen.id)
    st.warning(
        f"Deleting {wording.literal(chosen.name)} also deletes its "
        f"{wording.count(measured, 'measurement')}."
        if measured
        else f"{wording.literal(chosen.name)} has no measurements: deleting it deletes no data."
    )
    st.caption("This cannot be undone; reports already made keep their figures.")
    confirmed = st.checkbox(
        f"Yes, delete {wording.literal(chosen.name)}{_and_its(measured)}",
        key=f"delete.{chosen.id}",
    )
    if st.button("Delete component", disabled=not confirmed, icon=":material/delete:"):
        with messages.problems_shown():
            with resources.database().write() as session:
                removed = delete_component(session=session, actor=actor, component_id=chosen.id)
            messages.flash(f"Deleted {wording.literal(chosen.name)}{_and_its(removed)}.")
            st.query_params.pop("component", None)
            st.session_state.pop(PICKED_KEY, None)  # the picker moves on to another component
            st.rerun()

elif task == "Substations":
    substations_section(actor)

else:
    st.write(
        f"A CSV file with a header row: `{COMPONENTS_HEADER}`, and "
        "optionally `to_substation` (a line's other end). Leave the fields of other types "
        "empty. All rows are imported, or none."
    )
    widgets.import_file(
        what="components",
        actor=actor,
        template=COMPONENTS_TEMPLATE_CSV,
        file_types=["csv"],
        existing="Components already stored (same name and substation)",
    )
