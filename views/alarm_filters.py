"""The Alarms page's filters: state, kind, substation, type, the days alarms were raised on (in
the reader's zone) and whether shelved ones show. See docs/design.md#the-alarms-page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.alarms.records import AlarmFilter, AlarmKind, AlarmOrder
from core.alarms.states import OPEN, AlarmState
from core.domain import ComponentType
from core.grid.components import list_substations
from core.reports.periods import days_period
from views import messages, resources
from views.alarm_table import STATE_NAMES, kind_name

CLEARED = (AlarmState.CLEARED_UNACKNOWLEDGED, AlarmState.CLOSED)


@dataclass(frozen=True, slots=True)
class AlarmChoice:
    filters: AlarmFilter
    order: AlarmOrder
    narrowed: bool  # a filter beyond the view's own: an empty list is the filters' doing


def choose_alarms(
    box: DeltaGenerator, *, history: bool, zone: str, on_change: Callable[[], None]
) -> AlarmChoice | None:
    """The filter widgets, drawn in ``box`` (the page's Filters menu), and what they choose,
    said under the page's first row when it narrows the view; ``None`` after saying why they
    choose no list (no state picked, or days outside the calendar).

    In a menu rather than on the page: a closed popover's widgets are not drawn by the
    browser, which cut the page's sidebar switch by a third (bench/browser.py)."""
    with resources.database().read() as session:
        substations = list_substations(session=session)
    choices = CLEARED if history else tuple(AlarmState)
    defaults = choices if history else OPEN
    states = box.multiselect(
        "State",
        choices,
        default=defaults,
        format_func=STATE_NAMES.__getitem__,
        placeholder="Pick states",
        key=f"alarms.states.{'history' if history else 'open'}",
        on_change=on_change,
    )
    kind = box.selectbox(
        "Kind",
        [None, *AlarmKind],
        format_func=lambda k: "All kinds" if k is None else kind_name(k),
        key="alarms.kind",
        on_change=on_change,
    )
    substation = box.selectbox(
        "Substation",
        [None, *substations],
        format_func=lambda name: "All substations" if name is None else name,
        key="alarms.substation",
        on_change=on_change,
    )
    component_type = box.selectbox(
        "Type",
        [None, *ComponentType],
        format_func=lambda t: "All types" if t is None else t.value.capitalize(),
        key="alarms.type",
        on_change=on_change,
    )
    days = box.date_input(
        f"Raised on ({zone})", value=[], key="alarms.days", on_change=on_change
    )  # a range: none, then the first day, then both
    shelved = box.toggle("Show shelved alarms", key="alarms.shelved", on_change=on_change)
    narrowing = [  # what an empty list would be the filters' doing
        "State: " + ", ".join(map(STATE_NAMES.__getitem__, states))
        if set(states) != set(defaults)
        else "",
        f"Kind: {kind_name(kind)}" if kind else "",
        f"Substation: {substation}" if substation else "",
        f"Type: {component_type.value.capitalize()}" if component_type else "",
        "Raised on " + " to ".join(day.isoformat() for day in days) if days else "",
    ]
    said = [part for part in (*narrowing, "shelved alarms shown" if shelved else "") if part]
    if states and said:
        st.caption("Filters: " + "; ".join(said) + ".")
    if not states:
        st.info("Pick one or more states in Filters to list their alarms.")
        return None
    with messages.problems_shown():
        start, end = days_period(*days, time_zone=zone) if len(days) == 2 else (None, None)
        return AlarmChoice(
            AlarmFilter(tuple(states), kind, substation, component_type, None, start, end, shelved),
            AlarmOrder.NEWEST if history else AlarmOrder.URGENCY,
            narrowed=any(narrowing),
        )
    return None
