"""What one app process shares between sessions: the database engine and the report runner
(``st.cache_resource``), and its settled heap (``settle_heap``). See docs/architecture.md#layers."""

from __future__ import annotations

import gc
import importlib
import pkgutil
import threading

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


# What Streamlit imports only when a page first draws a table or a chart.
DRAWN_WITH = ("pandas", "pyarrow", "plotly.graph_objects", "plotly.io")
_settling = threading.Lock()
_settled = False


def settle_heap() -> None:
    """Once per app process: import every module the pages draw with, collect, then leave
    every object alive now out of the garbage collector's full collections (``gc.freeze``).

    Streamlit runs a full collection after every script run (``runner.postScriptGC``) so that
    cyclic garbage does not pile up between runs. It walks every tracked object, and most are
    the modules' (Streamlit, Polars, pandas, Plotly, SQLAlchemy: about 220,000): 250-350 ms of
    CPU after every page switch on the shared 2-core machine, holding the interpreter lock the
    server needs to send the page (bench/JOURNAL.md, 2026-12-07). Frozen, those objects are
    still freed when nothing refers to them any more, and what the runs make is collected as
    before (4-8 ms). Once only: freezing again would keep a session's later cyclic garbage
    for good.
    """
    global _settled
    with _settling:
        if _settled:
            return
        import views

        for module in pkgutil.walk_packages(views.__path__, f"{views.__name__}."):
            importlib.import_module(module.name)
        for name in DRAWN_WITH:
            importlib.import_module(name)
        gc.collect()
        gc.freeze()
        _settled = True
