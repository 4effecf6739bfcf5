"""A finished report's tables (partial days marked) and figures, built once per app process: a
completed report never changes. See docs/architecture.md#layers."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from core.reports.jobs import ReportRecord, get_report_tables, marked_tables
from views import resources
from views.figures.charts import report_figure


@dataclass(frozen=True)
class Completed:
    tables: dict[str, pl.DataFrame]  # partial days marked
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
        figures={name: report_figure(name, frame) for name, frame in tables.items()},
    )
