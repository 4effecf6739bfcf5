"""The inputs of a component's form, one type's fields at a time (Manage components' create
and edit). See docs/design.md#components."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.domain import ComponentType, SwitchStatus
from core.grid.component_fields import (
    CHOICE_FIELDS,
    FIELDS_OF_TYPE,
    NUMBER_RANGES,
    OPTIONAL_OF_TYPE,
)
from core.grid.components import ComponentRecord
from views import wording

FIRST_CHOICE = {"status": SwitchStatus.CLOSED}  # what a new component's choice starts on


def component_fields(
    kind: ComponentType, current: ComponentRecord | None, key: str, places: dict[str, str]
) -> dict[str, Any]:
    """The inputs of a component of type ``kind``, filled from ``current``."""
    fields: dict[str, Any] = {
        "name": st.text_input("Name", value=current.name if current else "", key=f"{key}.name"),
        **places,
        "component_type": kind.value,
    }
    for field in FIELDS_OF_TYPE[kind]:
        title = wording.field_label(kind, field)
        now = getattr(current, field, None)
        if field in CHOICE_FIELDS:
            choices = list(CHOICE_FIELDS[field])
            fields[field] = st.radio(
                title,
                choices,
                index=choices.index(now or FIRST_CHOICE[field]),
                format_func=str.capitalize,
                horizontal=True,
                key=f"{key}.{field}",
            ).value
        else:
            fields[field] = st.number_input(
                title,
                value=now,
                format="%g",
                key=f"{key}.{kind}.{field}",
                help=f"From {NUMBER_RANGES[field]}.",
            )
    for field in OPTIONAL_OF_TYPE[kind]:
        if field not in places:  # a line's other end is picked with the substation
            fields[field] = st.text_input(
                wording.field_label(kind, field),
                value=str(getattr(current, field, None) or ""),
                key=f"{key}.{field}",
            )
    return fields
