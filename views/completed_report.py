"""A finished report's tables (partial days marked), as its page shows them (headers in words
with units), and figures, built once per app process: a completed report never changes.
See docs/design.md#reports."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from core.reports.jobs import ReportRecord, get_report_tables, marked_tables
from core.reports.periods import PARTIAL_DAY
from views import resources, wording
from views.figures.charts import report_figure

# The page's header for each column of a report table; the CSV files keep the names on the left.
HEADINGS = {
    "component_type": "Component type",
    "count": "Components",
    "voltage_kv": "Voltage level (kV)",
    "transformer_count": "Transformers",
    "total_capacity_mva": "Total capacity (MVA)",
    "line_count": "Lines",
    "total_length_km": "Total length (km)",
    "day": "Day",
    "measurement_type": "Measurement",
    "avg_value": "Average",
    "sample_count": "Samples",
    "min_value": "Minimum",
    "max_value": "Maximum",
    PARTIAL_DAY: "Partial day",
    "component_id": "Component id",
    "component": "Component",
    "substation": "Substation",
    "kind": "Kind",
    "alarm_count": "Alarms",
    "duration_s": "Time outside (s)",
    "worst_value": "Worst value",
    "component_count": "Components",
    "alarm_s": "Time in alarm (s)",
    "alarm_share_pct": "Share in alarm (%)",
    "warning_or_alarm_s": "Time in a warning or alarm (s)",
    "warning_or_alarm_share_pct": "Share in a warning or alarm (%)",
}


def shown_table(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as the page shows it: headers in words, with their unit where the whole
    column has one, and a unit column next to the measurement where rows of several
    measurement types share the values' columns."""
    if "measurement_type" in frame.columns:
        at = frame.columns.index("measurement_type") + 1
        columns = [pl.col(name) for name in frame.columns]
        frame = frame.select(
            *columns[:at], wording.unit_of(pl.col("measurement_type")), *columns[at:]
        )
    return frame.rename({name: HEADINGS[name] for name in frame.columns if name in HEADINGS})


@dataclass(frozen=True)
class Completed:
    tables: dict[str, pl.DataFrame]  # partial days marked
    shown: dict[str, pl.DataFrame]  # the same, as the page shows them
    figures: dict[str, go.Figure]


@st.cache_resource(show_spinner=False, max_entries=32)
def completed(report_id: int, finished_at: object, _record: ReportRecord) -> Completed:
    """A completed report never changes (only a delete removes it): its tables are read,
    marked and charted once per app process, not on every rerun of this page
    (the five figures alone took 150 ms a run). ``finished_at`` is part of the key, so a new
    report that gets a deleted one's id (SQLite may reuse it) is read afresh. Shared by every
    session and only ever read (``st.plotly_chart`` copies a figure to send it)."""
    with resources.database().read() as session:
        stored = get_report_tables(session=session, report_id=report_id)
    tables = marked_tables(_record, stored)
    return Completed(
        tables=tables,
        shown={name: shown_table(frame) for name, frame in tables.items()},
        figures={name: report_figure(name, frame) for name, frame in tables.items()},
    )
