"""Measurements (manager): add one, or import a CSV or Parquet file of them.
See docs/design.md#import-formats."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from core.domain import MEASUREMENT_UNITS, MeasurementType
from core.imports import MEASUREMENTS_TEMPLATE_CSV
from core.measurements.measurements import add_measurement
from views import messages, resources, selection, ui, widgets, wording

actor = ui.require_manager("add or import measurements")
st.title("Measurements")
TASKS = ["Import a file", "Add one"]
task = st.segmented_control("What would you like to do?", TASKS, default=TASKS[0], required=True)

if task == "Add one":
    component = widgets.pick_component(key="measurement", linked=selection.query_id("component"))
    if component is None:
        st.stop()
    zone = ui.browser_zone()  # the form reads and says times on the browser's wall clock
    now = datetime.now(ZoneInfo(zone)).replace(second=0, microsecond=0, tzinfo=None)
    with st.form("add-measurement"):
        # Typed apart: written inline, mypy infers the list from the widget's overload for no
        # options (Sequence[Never]) and types the choice None.
        kinds: list[MeasurementType] = list(MeasurementType)
        kind = st.selectbox(
            "Measurement type",
            kinds,
            format_func=lambda k: f"{k.capitalize()} ({MEASUREMENT_UNITS[k]})",
        )
        day_column, time_column = st.columns(2)
        # Keyed: an unkeyed widget's identity includes its default, so once the clock passed a
        # minute (or midnight) while the manager typed, the submit would draw a new widget and
        # store "now" instead of the time typed. A key keeps the widget; "now" is only its start.
        day = day_column.date_input(f"Date ({zone})", value=now.date(), key="add-measurement.day")
        moment = time_column.time_input(
            f"Time ({zone})", value=now.time(), step=60, key="add-measurement.time"
        )
        value = st.text_input(
            "Value",
            placeholder="12.5 (a dot for decimals)",
            help="In the unit of its type: voltage in kV, current in A, power in MW (signed). "
            "A value implausible for the component (a voltage over 2x its nominal kV, a "
            "negative current, a power beyond its rating) is refused.",
        )
        overwrite = st.checkbox("Replace a measurement already stored at this time")
        submitted = st.form_submit_button("Add measurement", type="primary")
    if submitted:
        timestamp = datetime.combine(day, moment, tzinfo=ZoneInfo(zone)).astimezone(UTC)
        with messages.problems_shown():
            with resources.database().write() as session:
                add_measurement(
                    session=session,
                    actor=actor,
                    component_id=component.id,
                    measurement_type=kind,
                    timestamp=timestamp,
                    value=value,
                    overwrite=overwrite,
                )
            st.success(
                f"Added {kind.value} {value.strip()} {MEASUREMENT_UNITS[kind]} at "
                f"{wording.when_in(timestamp, zone)} to {wording.literal(component.name)} in "
                f"substation {wording.literal(component.substation)}."
            )

else:
    st.write(
        "CSV (UTF-8, header row, commas) or Parquet with the columns "
        "`component_name,substation,timestamp,measurement_type,value` "
        "(or `component_id` instead of name and substation). Timestamps are ISO 8601; one "
        "without an offset is taken as UTC. Values in GridBoard's units: voltage in kV, "
        "current in A, power in MW (signed); a value implausible for its component is refused "
        "unless you allow it for this import. All rows are imported, or none."
    )
    widgets.import_file(
        what="measurements",
        actor=actor,
        template=MEASUREMENTS_TEMPLATE_CSV,
        file_types=["csv", "parquet"],
        existing="Measurements already stored (same component, type and time)",
    )
