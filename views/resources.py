"""What one app process shares between sessions: the database engine and the report runner
(``st.cache_resource``). See docs/architecture.md#layers."""

from __future__ import annotations

import streamlit as st

from core.config import get_settings
from core.db import Database, open_database
from core.reports.jobs import ReportRunner


@st.cache_resource(show_spinner=False)
def database() -> Database:
    """One engine (a connection pool) per app process; sessions are made per action."""
    return open_database()


def _stop_runner(runner: ReportRunner | None) -> None:
    if runner is not None:
        runner.stop(timeout=5)


@st.cache_resource(show_spinner=False, on_release=_stop_runner)
def report_runner() -> ReportRunner | None:
    """One background thread per app process that computes requested reports; none where the
    deployment leaves reports to ``gridboard worker`` (``GRIDBOARD_APP_RUNS_REPORTS=false``)."""
    if not get_settings().app_runs_reports:
        return None
    return ReportRunner(database()).start()
