"""Reports: the list, live while reports run; a manager also asks for new ones.
See docs/design.md#reports."""

from datetime import UTC, datetime

import polars as pl
import streamlit as st

from core.reports import REFRESH_SECONDS
from core.reports.compute import time_zone_names
from core.reports.jobs import count_reports, list_reports, oldest_pending_since, request_report
from core.reports.periods import ReportPreset, measurement_span, report_period
from core.timestamps import MINUTE_SECONDS
from core.units import format_duration
from views import messages, pager, resources, selection, ui, wording

PAGE_SIZE = 25
PAGER = "reports.page"
# A report pending longer than this gets a hint: the runners are busy, or none is running.
WAITING_HINT_SECONDS = 60

actor = ui.actor()
st.title("Reports")
if actor.is_manager:
    with st.expander("Generate a report", expanded=True, icon=":material/add_chart:"):
        zones = sorted(time_zone_names())
        browser_zone = ui.browser_zone()
        # The period's five choices get a row of their own: beside the zone, "Custom" was cut off.
        preset = st.segmented_control(
            "Period",
            list(ReportPreset),
            format_func=str.capitalize,
            default=ReportPreset.LAST_7_DAYS,
            required=True,
        )
        zone_column, _ = st.columns(2)
        zone = zone_column.selectbox(
            "Time zone of the daily buckets", zones, index=zones.index(browser_zone)
        )
        custom = None
        if preset is ReportPreset.CUSTOM:
            custom = st.date_input("First and last day", value=[])  # a range, none picked yet
        if preset is ReportPreset.CUSTOM and len(custom or ()) != 2:
            st.caption("Pick the first and the last day of the period, then generate it.")
            st.button("Generate report", type="primary", disabled=True, key="generate.waiting")
        else:
            with messages.problems_shown():
                with resources.database().read() as session:
                    span = measurement_span(session=session)
                start, end = report_period(
                    preset, time_zone=zone, now=datetime.now(UTC), span=span, custom=custom
                )
                st.caption(f"Period: {wording.period(start, end, zone)}.")
                if st.button("Generate report", type="primary"):
                    with resources.database().write() as session:
                        record = request_report(
                            session=session, actor=actor, start=start, end=end, time_zone=zone
                        )
                    runner = resources.report_runner()
                    if runner is not None:
                        runner.wake()
                    st.success(
                        f"Report #{record.id} is on its way; its status updates below."
                        if runner is not None
                        else f"Report #{record.id} is queued for the report workers; "
                        "its status updates below."
                    )

with resources.database().read() as session:
    active = count_reports(session=session, active_only=True)


def report_list(refreshing: bool) -> None:
    with resources.database().read() as session:
        total = count_reports(session=session)
        still_active = count_reports(session=session, active_only=True)
        reports = list_reports(
            session=session, offset=pager.page_offset(PAGE_SIZE, key=PAGER), limit=PAGE_SIZE
        )
        waiting_since = oldest_pending_since(session=session)
    if refreshing != (still_active > 0):  # start or stop refreshing this list
        st.rerun(scope="app")
    if total == 0:
        st.info(
            "No reports yet. Generate the first one above."
            if actor.is_manager
            else "No reports yet. A manager generates them; check back later."
        )
        return
    waited = (datetime.now(UTC) - waiting_since).total_seconds() if waiting_since else 0.0
    if waited > WAITING_HINT_SECONDS:
        minutes = round(waited / MINUTE_SECONDS)
        st.warning(
            f"The oldest pending report has waited {format_duration(MINUTE_SECONDS * minutes)} "
            "for a runner: the runners are busy with other reports, or none is running. "
            "Reports are computed by the app (unless GRIDBOARD_APP_RUNS_REPORTS is false) "
            "and by `gridboard worker` processes."
        )
    table = pl.DataFrame(
        {
            "Report": [f"#{r.id}" for r in reports],
            "Status": [r.status.value for r in reports],
            "Period": [wording.period(r.period_start, r.period_end, r.time_zone) for r in reports],
            "Requested by": [r.requested_by for r in reports],
            "Requested": [wording.when(r.created_at) for r in reports],
            "Took": [
                wording.took(r.duration.total_seconds()) if r.duration else "" for r in reports
            ],
            "Error": [r.error or "" for r in reports],
        }
    )
    row = selection.picked_row(table, key="reports.table")
    if row is not None:
        st.switch_page("pages/report.py", query_params={"report": str(reports[row].id)})
    st.caption(
        "Select a report to see its tables and charts and download them."
        + (" This list updates itself while reports run." if still_active else "")
    )
    pager.pager(total, PAGE_SIZE, key=PAGER)


st.subheader("All reports")
st.fragment(report_list, run_every=REFRESH_SECONDS if active else None)(active > 0)
