"""Manage components' Substations task: rename, describe, pin on the map, delete an empty one.
See docs/design.md#substations."""

from __future__ import annotations

import streamlit as st

from core.domain import Actor
from core.grid.substation_records import (
    delete_substation,
    list_substation_records,
    update_substation,
)
from views import messages, resources, wording


def substations_section(actor: Actor) -> None:
    with resources.database().read() as session:
        records = list_substation_records(session=session)
    if not records:
        st.info("No substations yet: they are made with their first component.")
        return
    by_name = {record.name: record for record in records}
    name = st.selectbox("Substation", list(by_name), key="substations.pick")
    if name is None:
        return
    record = by_name[name]
    st.caption(
        f"{record.components:,} component(s) stand in it; "
        f"{record.line_ends:,} line(s) of other substations end here."
    )
    with st.form(f"substation-{record.id}"):
        new_name = st.text_input(
            "Name", value=record.name, help="A rename moves every component and line end with it."
        )
        description = st.text_area("Description", value=record.description or "")
        pinned = st.checkbox(
            "Pin on the network map at this place", value=record.pinned,
            help="A pinned substation is never moved by the layout.",
        )  # fmt: skip
        x = st.number_input("Map x", value=record.x or 0.0, format="%g", step=0.05)
        y = st.number_input("Map y", value=record.y or 0.0, format="%g", step=0.05)
        saved = st.form_submit_button("Save substation", type="primary")
    if saved:
        with messages.problems_shown():
            with resources.database().write() as session:
                changed = update_substation(
                    session=session,
                    actor=actor,
                    name=record.name,
                    new_name=new_name if new_name.strip() != record.name else None,
                    description=description,
                    position=(x, y) if pinned else None,
                    # Unpinning lets the layout place it again; leaving it unpinned keeps it.
                    pinned=pinned if pinned or record.pinned else None,
                )
            messages.flash(f"Saved substation {wording.literal(changed.name)}.")
            st.session_state.pop("substations.pick", None)
            st.rerun()
    empty = record.components == 0 and record.line_ends == 0
    if st.button(
        f"Delete {wording.literal(record.name)}",
        disabled=not empty,
        help=None if empty else "Only an empty substation can be deleted.",
        icon=":material/delete:",
    ):
        with messages.problems_shown():
            with resources.database().write() as session:
                delete_substation(session=session, actor=actor, name=record.name)
            messages.flash(f"Deleted substation {wording.literal(record.name)}.")
            st.session_state.pop("substations.pick", None)
            st.rerun()
