"""What the pages say, in the words an operator reads: empty cells, capitalised values, a
report's duration in full, the substation of a measurement, a decimal comma named as such."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core.models import Report
from core.reports.jobs import request_report
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component
from tests.pages.conftest import everything, texts


def test_the_components_table_shows_empty_cells_and_capitalised_words(open_app, app_db):
    make_component(app_db, TRANSFORMER)
    make_component(app_db, SWITCH)
    at = open_app(as_user="ulf", page="pages/components.py")
    table = at.dataframe[0].value
    switch = table[table["Name"] == "S1"].iloc[0]
    assert switch["Voltage (kV)"] == "" and switch["Capacity (MVA)"] == ""  # not "None"
    assert switch["Switch"] == "Closed" and switch["Type"] == "Switch"
    transformer = table[table["Name"] == "T1"].iloc[0]
    assert transformer["Voltage (kV)"] == "110" and transformer["Switch"] == ""


def test_the_type_filter_says_all_types_beside_all_substations(open_app, app_db):
    make_component(app_db, LINE)
    at = open_app(as_user="ulf", page="pages/components.py")
    assert [box.proto.placeholder for box in at.multiselect] == ["All types", "All substations"]


def test_switch_status_options_are_capitalised(open_app, app_db):
    at = open_app(as_user="mona", page="pages/manage-components.py")
    at.radio[0].set_value("switch").run()
    status = next(radio for radio in at.radio if radio.label == "Switch status")
    assert status.options == ["Open", "Closed"]


def test_the_reports_list_says_how_long_a_report_took_in_full(open_app, app_db):
    with app_db.write() as session:
        record = request_report(
            session=session,
            actor=MANAGER,
            start=datetime(2024, 5, 1, tzinfo=UTC),
            end=datetime(2024, 5, 2, tzinfo=UTC),
        )
        started = datetime(2024, 5, 3, tzinfo=UTC)
        session.execute(
            update(Report)
            .where(Report.id == record.id)
            .values(
                status="completed",
                started_at=started,
                finished_at=started + timedelta(seconds=0.245),
            )
        )
    at = open_app(as_user="ulf", page="pages/reports.py")
    assert list(at.dataframe[0].value["Took"]) == ["0.24 s"]


def test_adding_a_measurement_names_the_substation_and_refuses_a_negative_voltage(open_app, app_db):
    for substation in ("Riverside", "Hilltop"):
        make_component(app_db, LINE, substation=substation)
    at = open_app(as_user="mona", page="pages/measurements.py")
    at.button_group[0].set_value("Add one").run()
    next(box for box in at.selectbox if box.label == "Component").select_index(1).run()
    next(f for f in at.text_input if f.label == "Value").input("20.5")
    at.button(key="FormSubmitter:add-measurement-Add measurement").click().run()
    (added,) = texts(at.success)
    assert added.endswith("to L1 in substation Riverside.")
    # A negative voltage was once only questioned; it is now refused (issue 28).
    next(f for f in at.text_input if f.label == "Value").input("-3.5")
    at.checkbox[0].check()
    at.button(key="FormSubmitter:add-measurement-Add measurement").click().run()
    (message,) = texts(at.error)
    assert "-3.5 kV is negative: a voltage is 0 kV or more" in message


def test_the_import_preview_shows_a_decimal_comma_as_the_problem_it_is(open_app, app_db):
    make_component(app_db, TRANSFORMER)
    at = open_app(as_user="mona", page="pages/measurements.py")
    data = (
        b"component_name,substation,timestamp,measurement_type,value\n"
        b"T1,Riverside,2024-05-01T00:00:00Z,power,12,5\n"
    )
    at.file_uploader[0].upload("m.csv", data, "text/csv").run()
    preview = at.dataframe[0].value
    assert list(preview["value"]) == ["12"]
    assert list(preview["problem"]) == ["has 6 fields but the header has 5"]
    assert "(a decimal comma, as in 12,5, splits a number in two)" in everything(at)
