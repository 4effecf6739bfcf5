"""One report (``?report=ID``): its status, or its tables with charts and downloads.
See docs/design.md#reports."""

import streamlit as st

from core.errors import UnknownReport
from core.reports import REFRESH_SECONDS, kpis
from core.reports.export import report_zip, report_zip_files, table_csv
from core.reports.jobs import (
    ReportStatus,
    cancel_report,
    delete_report,
    get_report,
    report_partial_days,
)
from views import completed_report, messages, resources, selection, ui, widgets, wording

DAY = completed_report.HEADINGS["day"]
TITLES = {
    kpis.COMPONENTS_BY_TYPE: "Components by type",
    kpis.TRANSFORMER_CAPACITY: "Transformer capacity per voltage level",
    kpis.LINE_LENGTH: "Line length per voltage level",
    kpis.DAILY_AVERAGES: "Daily averages",
    kpis.DAILY_AVERAGES_BY_VOLTAGE: "Daily averages per voltage level",
    kpis.LIMIT_VIOLATIONS: "Limit violations (time outside, within the period)",
    kpis.ALARM_SHARES: "Share of time in alarm per type and voltage level",
}

actor = ui.actor()
report_id = selection.query_id("report")
if report_id is None:
    selection.none_picked(
        "Pick a report on the Reports page to see it here.",
        page="pages/reports.py",
        label="Reports",
        icon=":material/summarize:",
    )
with (
    selection.gone_back_to("pages/reports.py", "Back to Reports", UnknownReport),
    resources.database().read() as session,
):
    record = get_report(session=session, report_id=report_id)

st.title(f"Report #{record.id}")
st.caption(
    f"{wording.period(record.period_start, record.period_end, record.time_zone)} · "
    f"requested by {wording.literal(record.requested_by)} on {wording.when(record.created_at)}"
)


@st.fragment(run_every=REFRESH_SECONDS)
def wait_for_it() -> None:
    with resources.database().read() as session:
        status = get_report(session=session, report_id=record.id).status
    if status not in (ReportStatus.PENDING, ReportStatus.RUNNING):
        st.rerun(scope="app")
    st.info(
        "Waiting for its turn..." if status is ReportStatus.PENDING else "Computing...",
        icon=":material/hourglass_top:",
    )
    st.caption("This page shows the report as soon as it is ready.")


if record.status in (ReportStatus.PENDING, ReportStatus.RUNNING):
    wait_for_it()
    if actor.is_manager and st.button("Cancel this report", icon=":material/cancel:"):
        with messages.problems_shown():
            with resources.database().write() as session:
                cancel_report(session=session, actor=actor, report_id=record.id)
            st.rerun()
    st.stop()
if record.status is ReportStatus.FAILED:
    st.error(f"This report failed: {wording.literal(record.error)}", icon=":material/error:")
if record.status is ReportStatus.CANCELLED:
    st.warning(f"This report was {wording.literal(record.error)}.", icon=":material/cancel:")


def offer_delete() -> None:
    """A manager deletes a finished report, after saying yes."""
    if not actor.is_manager:
        return
    opened = "report.delete.open"
    with st.expander("Delete this report", icon=":material/delete:", key=opened, on_change="rerun"):
        confirmed = st.checkbox(
            f"Yes, delete report #{record.id} and its tables",
            key="report.delete",
            on_change=widgets.kept_open(opened),
        )
        if st.button("Delete report", disabled=not confirmed, icon=":material/delete:"):
            with messages.problems_shown():
                with resources.database().write() as session:
                    delete_report(session=session, actor=actor, report_id=record.id)
                messages.flash(f"Deleted report #{record.id}.")
                st.switch_page("pages/reports.py")


if record.status is not ReportStatus.COMPLETED:
    st.page_link("pages/reports.py", label="Request it again on Reports", icon=":material/replay:")
    offer_delete()
    st.stop()

partial = report_partial_days(record)
report = completed_report.completed(record.id, record.finished_at, record)
tables = report.tables
if partial:
    st.info(
        "Partial days (the period or the data stops part-way through them, so their sums "
        "and averages cover fewer hours): "
        + wording.days(partial)
        + ". Their tables mark them in the Partial day column (partial_day in the CSV files); "
        "charts draw them as open circles.",
        icon=":material/timelapse:",
    )
files = report_zip_files(tables)
st.download_button(
    f"Download the whole report (zip of {len(files)} files: "
    f"{wording.count(len(files) - 1, 'table')} as CSV and {files[-1]})",
    lambda: report_zip(tables, record.metadata()),  # zipped when clicked, not on every rerun
    file_name=f"gridboard-report-{record.id}.zip",
    mime="application/zip",
    icon=":material/folder_zip:",
)
for name in (name for name in kpis.TABLES if name in tables):
    st.subheader(TITLES[name])
    if name == kpis.DAILY_AVERAGES:
        st.info(
            "These averages are over every voltage level at once (a voltage average over "
            "110 kV and 0.4 kV components is the voltage of neither). Read the per-level table "
            f"below ({TITLES[kpis.DAILY_AVERAGES_BY_VOLTAGE]}) for values to trust.",
            icon=":material/info:",
        )
    # seven or eight columns: the table goes under its chart
    wide = name in (kpis.DAILY_AVERAGES, kpis.DAILY_AVERAGES_BY_VOLTAGE, kpis.LIMIT_VIOLATIONS)
    chart, table = (st.container(), st.container()) if wide else st.columns([3, 2])
    chart.plotly_chart(report.figures[name], key=f"chart.{name}")
    table.dataframe(
        report.shown[name],
        hide_index=True,
        column_config={DAY: st.column_config.DateColumn(DAY, format="YYYY-MM-DD")},
    )
    table.download_button(
        f"Download {name}.csv",
        table_csv(tables[name]),
        file_name=f"{name}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"csv.{name}",
    )
if kpis.LIMIT_VIOLATIONS not in tables:
    st.caption("This report was made before reports carried limit violations: request it again.")
offer_delete()
