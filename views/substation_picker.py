"""The forms' substation fields: a searchable list of the stored substations with an explicit
choice that creates one. See docs/design.md#substations."""

from __future__ import annotations

import streamlit as st

from core.domain import ComponentType
from core.grid.component_fields import OPTIONAL_OF_TYPE
from core.grid.components import ComponentRecord
from core.grid.substation_records import list_substation_records
from views import resources, wording

NEW_SUBSTATION = "New substation…"
NO_SUBSTATION = "(none)"


def pick_substation(
    label: str, names: list[str], current: str | None, key: str, *, optional: bool = False
) -> str:
    """A searchable list of the stored substations, with an explicit choice that creates one
    (outside the form: choosing it shows the new name's field at once)."""
    choices = [*([NO_SUBSTATION] if optional else []), *names, NEW_SUBSTATION]
    if current in choices:
        index: int | None = choices.index(current)
    else:
        index = 0 if optional or not names else None
    picked = st.selectbox(
        label, choices, index=index, placeholder="Choose a substation", key=f"{key}.pick"
    )
    if picked == NEW_SUBSTATION:
        typed = st.text_input(f"{label.split(' (')[0]}: new name", key=key)
        st.caption("Saving creates this substation.")
        return typed
    return "" if picked in (None, NO_SUBSTATION) else str(picked)


def substation_places(
    kind: ComponentType, current: ComponentRecord | None, key: str
) -> dict[str, str]:
    """The substation and, for a line, its other end, picked from the stored ones."""
    with resources.database().read() as session:
        names = [record.name for record in list_substation_records(session=session)]
    places = {
        "substation": pick_substation(
            "Substation", names, current.substation if current else None, f"{key}.substation"
        )
    }
    if "to_substation" in OPTIONAL_OF_TYPE[kind]:
        places["to_substation"] = pick_substation(
            wording.field_label(kind, "to_substation"),
            names,
            current.to_substation if current else None,
            f"{key}.to_substation",
            optional=True,
        )
    return places
