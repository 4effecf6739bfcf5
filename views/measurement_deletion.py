"""The component page's "Delete measurements" form (manager): one type over a time range, with
a confirmation; the deletion is ``core.measurements.deletions``. See docs/design.md#measurements."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from core.domain import Actor, MeasurementType
from core.grid.components import ComponentRecord
from core.measurements.deletions import delete_measurements
from views import messages, resources, wording


def delete_measurements_form(component: ComponentRecord, actor: Actor) -> None:
    """Pick a type and a range [start, end) in UTC, confirm, delete; the page says how many."""
    key = f"delete-measurements.{component.id}"
    with st.expander("Delete measurements", icon=":material/delete:", key=key):
        kinds: list[MeasurementType] = list(MeasurementType)  # typed apart: pages/measurements.py
        kind = st.selectbox(
            "Measurement type", kinds, format_func=str.capitalize, key=f"{key}.kind"
        )
        today = datetime.now(UTC).date()
        start_column, end_column = st.columns(2)
        start_day = start_column.date_input("From (UTC)", value=today, key=f"{key}.from")
        start_time = start_column.time_input("at", value=time(0, 0), step=60, key=f"{key}.at")
        end_day = end_column.date_input(
            "Until, not included (UTC)", value=today + timedelta(days=1), key=f"{key}.until"
        )
        end_time = end_column.time_input("at ", value=time(0, 0), step=60, key=f"{key}.to")
        start = datetime.combine(start_day, start_time, tzinfo=UTC)
        end = datetime.combine(end_day, end_time, tzinfo=UTC)
        what = (
            f"{kind.value} measurements of {wording.literal(component.name)} from "
            f"{wording.when(start)} until {wording.when(end)}"
        )
        confirmed = st.checkbox(
            f"Yes, delete the {what}. This cannot be undone.", key=f"{key}.confirm"
        )
        if not st.button("Delete measurements", disabled=not confirmed, key=f"{key}.go"):
            return
        with messages.problems_shown():
            with resources.database().write() as session:
                deleted = delete_measurements(
                    session=session, actor=actor, component_id=component.id,
                    measurement_type=kind, start=start, end=end,
                )  # fmt: skip
            messages.flash(f"Deleted {deleted:,} {what}.")
            st.session_state.pop(f"{key}.confirm", None)
            st.rerun()
