"""Reports: the list, the generate form (manager), and a report's page."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from core.config import get_settings
from core.measurements.measurements import add_measurement
from core.models import Report
from core.reports.export import report_zip, table_csv
from core.reports.jobs import ReportStatus, get_report, list_reports, request_report
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.pages.conftest import NoRunner, everything, texts
from tests.report_runs import run_next
from views import completed_report, resources

pytestmark = pytest.mark.every_backend  # the app on SQLite and on PostgreSQL

THE_APPS_RUNNER = resources.report_runner  # the fixture stands a NoRunner in for it

START = datetime(2024, 5, 1, tzinfo=UTC)


def _request(db, days=7):
    with db.write() as session:
        return request_report(
            session=session, actor=MANAGER, start=START, end=START + timedelta(days=days)
        )


def _generate_button(at):
    return next(button for button in at.button if button.label == "Generate report")


@pytest.mark.parametrize(
    ("user", "hint"),
    [("mona", "Generate the first one above"), ("ulf", "A manager generates them")],
)
def test_no_reports_yet_says_what_to_do(open_app, user, hint):
    at = open_app(as_user=user, page="pages/reports.py")
    assert hint in everything(at)


def test_a_user_sees_the_list_but_no_generate_form(open_app, app_db):
    _request(app_db)
    at = open_app(as_user="ulf", page="pages/reports.py")
    assert not at.expander
    table = at.dataframe[0].value
    assert list(table["Report"]) == ["#1"]
    assert list(table["Status"]) == ["pending"]
    assert list(table["Period"]) == ["2024-05-01 to 2024-05-07 (UTC)"]


def _runner_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "gridboard-report-runner"}


def test_an_app_that_leaves_reports_to_workers_queues_them_and_starts_no_runner(
    open_app, app_db, monkeypatch
):
    monkeypatch.setenv("GRIDBOARD_APP_RUNS_REPORTS", "false")
    get_settings.cache_clear()
    monkeypatch.setattr(resources, "report_runner", THE_APPS_RUNNER)
    runners_before = _runner_threads()
    at = open_app(as_user="mona", page="pages/reports.py")
    _generate_button(at).click().run()
    assert not at.exception
    assert texts(at.success) == [
        "Report #1 is queued for the report workers; its status updates below."
    ]
    assert THE_APPS_RUNNER() is None
    assert _runner_threads() == runners_before
    with app_db.read() as session:
        assert get_report(session=session, report_id=1).status is ReportStatus.PENDING
    assert run_next(app_db, "a-worker") == 1  # a worker takes it from there


def test_a_manager_generates_a_report_for_the_last_7_days(open_app, app_db):
    woken = NoRunner.woken
    at = open_app(as_user="mona", page="pages/reports.py")
    assert "Period:" in everything(at) and "(UTC)" in everything(at)
    _generate_button(at).click().run()
    assert texts(at.success) == ["Report #1 is on its way; its status updates below."]
    assert NoRunner.woken == woken + 1
    with app_db.read() as session:
        (record,) = list_reports(session=session)
    assert record.requested_by == "mona" and record.time_zone == "UTC"
    assert record.period_end - record.period_start == timedelta(days=7)
    today = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    assert record.period_end == today  # whole days: today, still running, is not one of them


def test_a_report_in_another_time_zone(open_app, app_db):
    at = open_app(as_user="mona", page="pages/reports.py")
    at.selectbox[0].select("Europe/Zurich").run()
    _generate_button(at).click().run()
    with app_db.read() as session:
        (record,) = list_reports(session=session)
    assert record.time_zone == "Europe/Zurich"
    assert record.period_start.astimezone(ZoneInfo("Europe/Zurich")).time() == time(0)


def test_a_custom_period_asks_for_both_days_without_an_error(open_app, app_db):
    at = open_app(as_user="mona", page="pages/reports.py")
    at.button_group[0].set_value("custom").run()
    assert not at.error  # nothing is wrong yet: the person has not picked a day
    assert "Pick the first and the last day of the period" in everything(at)
    assert _generate_button(at).disabled
    at.date_input[0].set_value((START.date(), START.date() + timedelta(days=2))).run()
    assert "Period: 2024-05-01 to 2024-05-03 (UTC)." in everything(at)
    _generate_button(at).click().run()
    with app_db.read() as session:
        (record,) = list_reports(session=session)
    assert record.period_end - record.period_start == timedelta(days=3)


def test_today_so_far_is_its_own_preset(open_app, app_db):
    at = open_app(as_user="mona", page="pages/reports.py")
    at.button_group[0].set_value("today so far").run()
    _generate_button(at).click().run()
    with app_db.read() as session:
        (record,) = list_reports(session=session)
    today = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    assert record.period_start == today and record.period_end <= datetime.now(UTC)


def test_a_report_marks_its_partial_days_in_tables_and_charts(open_app, app_db):
    line = make_component(app_db, LINE)
    today = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    with app_db.write() as session:
        for day in (today - timedelta(days=1), today):
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=line.id,
                measurement_type="voltage",
                timestamp=day,
                value=20.0,
            )
    with app_db.write() as session:  # as the old presets did: today, not over yet, included
        record = request_report(
            session=session,
            actor=MANAGER,
            start=today - timedelta(days=1),
            end=today + timedelta(days=1),
        )
    assert run_next(app_db, "test-worker") == record.id
    at = open_app(as_user="ulf", query={"report": record.id})
    assert "Partial days (the period or the data stops part-way" in everything(at)
    assert f"{today:%Y-%m-%d}. Their tables mark them" in everything(at)
    daily = at.dataframe[4].value  # daily averages by voltage level, the last daily table
    assert list(daily["Partial day"]) == [False, True]
    chart = at.get("plotly_chart")[4].proto.spec
    assert "circle-open" in chart


def test_all_data_without_measurements_says_to_import_some(open_app):
    at = open_app(as_user="mona", page="pages/reports.py")
    at.button_group[0].set_value("all data").run()
    assert "there are no measurements yet: import some" in texts(at.error)[0]


def test_picking_a_report_opens_it(open_app, app_db):
    _request(app_db)
    at = open_app(as_user="ulf", page="pages/reports.py")
    at.session_state["reports.table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert texts(at.title) == ["Report #1"]


def test_a_pending_report_waits_and_a_manager_may_cancel_it(open_app, app_db):
    record = _request(app_db)
    at = open_app(as_user="ulf", page="pages/report.py", query={"report": record.id})
    assert "Waiting for its turn..." in everything(at)
    assert not at.main.button
    at = open_app(as_user="mona", page="pages/report.py", query={"report": record.id})
    at.main.button[0].click().run()
    assert "This report was cancelled by mona." in everything(at)
    with app_db.read() as session:
        assert get_report(session=session, report_id=record.id).status is ReportStatus.CANCELLED


def test_a_completed_report_shows_seven_tables_charts_and_downloads(open_app, app_db):
    make_component(app_db, TRANSFORMER)
    make_component(app_db, LINE)
    record = _request(app_db)
    assert run_next(app_db, "test-worker") == record.id
    at = open_app(as_user="ulf", query={"report": record.id})
    assert texts(at.subheader) == [
        "Components by type",
        "Transformer capacity per voltage level",
        "Line length per voltage level",
        "Daily averages",
        "Daily averages per voltage level",
        "Limit violations (time outside, within the period)",
        "Share of time in alarm per type and voltage level",
    ]
    assert len(at.get("plotly_chart")) == 7
    assert [b.label for b in at.download_button] == [
        "Download the whole report (zip of 8 files: 7 tables as CSV and report.json)",
        "Download components_by_type.csv",
        "Download transformer_capacity_by_voltage.csv",
        "Download line_length_by_voltage.csv",
        "Download daily_averages.csv",
        "Download daily_averages_by_voltage.csv",
        "Download limit_violations.csv",
        "Download alarm_shares_by_voltage.csv",
    ]
    by_type = at.dataframe[0].value
    assert dict(zip(by_type["Component type"], by_type["Components"], strict=True)) == {
        "line": 1,
        "switch": 0,
        "transformer": 1,
    }


def test_a_failed_report_shows_its_error(open_app, app_db):
    record = _request(app_db)
    with app_db.write() as session:
        session.execute(
            update(Report).values(status="failed", error="the database went away; try again")
        )
    at = open_app(as_user="ulf", page="pages/report.py", query={"report": record.id})
    assert texts(at.error) == ["This report failed: the database went away; try again"]
    assert [link.label for link in at.main.get("page_link")] == ["Request it again on Reports"]


def test_an_unknown_report_says_so(open_app):
    at = open_app(as_user="ulf", page="pages/report.py", query={"report": 42})
    assert texts(at.error) == ["Report 42 does not exist: it may have been deleted."]


def test_a_report_left_pending_says_it_waits_for_a_runner(open_app, app_db):
    fresh = _request(app_db)
    at = open_app(as_user="ulf", page="pages/reports.py")
    assert not at.warning  # just queued: nothing to say yet
    with app_db.write() as session:
        session.execute(
            update(Report)
            .where(Report.id == fresh.id)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=5, seconds=1))
        )
    at = open_app(as_user="ulf", page="pages/reports.py")
    (warning,) = texts(at.warning)
    assert warning.startswith("The oldest pending report has waited 5 minutes for a runner")
    assert "gridboard worker" in warning
    run_next(app_db, "a-worker")
    at = open_app(as_user="ulf", page="pages/reports.py")
    assert not at.warning  # computed: nothing waits


def test_a_manager_deletes_a_report_and_a_user_may_not(open_app, app_db):
    record = _request(app_db)
    assert run_next(app_db, "test-worker") == record.id
    at = open_app(as_user="ulf", query={"report": record.id})
    assert "Delete report" not in [b.label for b in at.button]
    at = open_app(as_user="mona", query={"report": record.id})
    at.checkbox(key="report.delete").check().run()
    next(b for b in at.button if b.label == "Delete report").click().run()
    assert texts(at.title) == ["Reports"]
    assert "Deleted report #1." in everything(at)
    assert "No reports yet." in everything(at)


def _completed_report_with_voltages(db):
    transformer = make_component(db, TRANSFORMER)
    line = make_component(db, LINE)
    with db.write() as session:
        for component, value in ((transformer, 110.5), (line, 20.2)):
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=component.id,
                measurement_type="voltage",
                timestamp=START + timedelta(hours=1),
                value=value,
            )
    record = _request(db)
    assert run_next(db, "test-worker") == record.id
    return record


def test_report_tables_have_worded_headers_with_units_and_csvs_keep_machine_names(open_app, app_db):
    record = _completed_report_with_voltages(app_db)
    at = open_app(as_user="ulf", query={"report": record.id})
    headers = [list(frame.value.columns) for frame in at.dataframe]
    assert headers == [
        ["Component type", "Components"],
        ["Voltage level (kV)", "Transformers", "Total capacity (MVA)"],
        ["Voltage level (kV)", "Lines", "Total length (km)"],
        ["Day", "Measurement", "Unit", "Component type", "Average", "Samples", "Minimum",
         "Maximum", "Partial day"],
        ["Day", "Measurement", "Unit", "Component type", "Voltage level (kV)", "Average",
         "Samples", "Minimum", "Maximum", "Partial day"],
        ["Component id", "Component", "Substation", "Component type", "Voltage level (kV)",
         "Measurement", "Unit", "Kind", "Alarms", "Time outside (s)", "Worst value"],
        ["Component type", "Voltage level (kV)", "Components", "Time in alarm (s)",
         "Share in alarm (%)", "Time in a warning or alarm (s)",
         "Share in a warning or alarm (%)"],
    ]  # fmt: skip
    by_level = at.dataframe[4].value
    columns = ("Voltage level (kV)", "Unit", "Average")
    rows = sorted(zip(*(by_level[name] for name in columns), strict=True))
    assert rows == [(20.0, "kV", 20.2), (110.0, "kV", 110.5)]
    # The CSV files' header rows keep the stable machine names.
    assert "Download daily_averages_by_voltage.csv" in [b.label for b in at.download_button]
    tables = completed_report.completed(record.id, record.finished_at, record).tables
    header = table_csv(tables["daily_averages_by_voltage"]).decode().splitlines()[0]
    assert header == (
        "day,measurement_type,component_type,voltage_kv,avg_value,sample_count,min_value,"
        "max_value,partial_day"
    )


def test_the_zip_button_counts_the_files_the_zip_holds(open_app, app_db):
    record = _completed_report_with_voltages(app_db)
    at = open_app(as_user="ulf", query={"report": record.id})
    label = at.download_button[0].label
    tables = completed_report.completed(record.id, record.finished_at, record).tables
    with zipfile.ZipFile(io.BytesIO(report_zip(tables, record.metadata()))) as archive:
        held = archive.namelist()
    assert (
        label
        == f"Download the whole report (zip of {len(held)} files: 7 tables as CSV and report.json)"
    )
    assert len(held) == 8


def test_daily_averages_over_all_levels_lead_with_a_pointer_to_the_per_level_table(
    open_app, app_db
):
    record = _completed_report_with_voltages(app_db)
    at = open_app(as_user="ulf", query={"report": record.id})
    (note,) = texts(at.info)
    assert note.startswith("These averages are over every voltage level at once")
    assert "Read the per-level table below (Daily averages per voltage level)" in note
    blocks = [(type(e).__name__, getattr(e, "value", None)) for e in at.main]
    order = [value for kind, value in blocks if kind in ("Subheader", "Info")]
    assert order.index("Daily averages") + 1 == order.index(note)


def test_the_delete_expander_stays_open_when_its_checkbox_changes(open_app, app_db):
    record = _completed_report_with_voltages(app_db)
    at = open_app(as_user="mona", query={"report": record.id})
    (expander,) = [e for e in at.expander if e.label == "Delete this report"]
    assert not expander.proto.expanded  # closed until someone opens it
    at.checkbox(key="report.delete").check().run()
    (expander,) = [e for e in at.expander if e.label == "Delete this report"]
    assert expander.proto.expanded
    at.checkbox(key="report.delete").uncheck().run()
    (expander,) = [e for e in at.expander if e.label == "Delete this report"]
    assert expander.proto.expanded


def test_a_report_lists_the_limit_violations_of_its_period(open_app, app_db):
    transformer = make_component(app_db, TRANSFORMER)  # 110 kV: an alarm above 121 kV
    for hours, value in ((1, 110.0), (2, 125.0), (4, 110.0)):
        with app_db.write() as session:
            add_measurement(
                session=session, actor=MANAGER, component_id=transformer.id,
                measurement_type="voltage", timestamp=START + timedelta(hours=hours), value=value,
            )  # fmt: skip
    record = _request(app_db)
    assert run_next(app_db, "test-worker") == record.id
    at = open_app(as_user="ulf", query={"report": record.id})
    violations = at.dataframe[5].value
    assert list(zip(violations["Component"], violations["Kind"], violations["Alarms"],
                    violations["Time outside (s)"], violations["Worst value"], strict=True)) == [
        ("T1", "high_alarm", 1, 7200.0, 125.0), ("T1", "high_warning", 1, 7200.0, 125.0),
    ]  # fmt: skip
    shares = at.dataframe[6].value
    transformers = shares[shares["Component type"] == "transformer"]
    assert list(transformers["Share in alarm (%)"]) == [pytest.approx(7200 / (7 * 86400) * 100)]
    old = _request(app_db)
    assert run_next(app_db, "test-worker") == old.id
    with app_db.write() as session:  # as a report stored before reports had violations
        row = session.get(Report, old.id)
        stored = json.loads(row.result_json)
        del stored["tables"]["limit_violations"], stored["tables"]["alarm_shares_by_voltage"]
        row.result_json = json.dumps(stored)
    at = open_app(as_user="ulf", query={"report": old.id})
    assert len(at.subheader) == 5 and not at.exception
    assert "request it again" in everything(at)
