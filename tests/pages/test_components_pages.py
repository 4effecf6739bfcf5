"""The Components list and a component's page, for both roles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from core.measurements import rollups
from core.measurements.measurements import add_measurement
from core.models import Measurement
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component
from tests.pages.conftest import everything, texts


def _table(at):
    return at.dataframe[0].value


def _measure(db, component_id, kind="voltage", start=datetime(2024, 5, 1, tzinfo=UTC), count=3):
    for step in range(count):
        with db.write() as session:
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=component_id,
                measurement_type=kind,
                timestamp=start + timedelta(minutes=15 * step),
                value=10.0 + step % 10,  # kV, A or MW plausible on a 20 kV line
            )


@pytest.mark.parametrize(
    ("user", "hint"),
    [("mona", "Create the first one, or import a CSV file"), ("ulf", "A manager adds them")],
)
def test_an_empty_inventory_says_what_to_do_next(open_app, user, hint):
    at = open_app(as_user=user, page="pages/components.py")
    assert hint in everything(at)
    assert not at.dataframe


def test_the_list_counts_filters_and_searches(open_app, app_db):
    make_component(app_db, TRANSFORMER)
    make_component(app_db, LINE)
    make_component(app_db, SWITCH, substation="Hilltop")
    at = open_app(as_user="ulf", page="pages/components.py")
    assert "Components: 3" in everything(at) and "Switches: 1" in everything(at)
    assert list(_table(at)["Name"]) == ["L1", "S1", "T1"]

    at.text_input(key="components.search").input("hill").run()
    assert list(_table(at)["Name"]) == ["S1"]
    assert "Components: 1" in everything(at)

    at.text_input(key="components.search").input("nowhere").run()
    assert "No component matches. Clear the search or the filters" in everything(at)

    at.text_input(key="components.search").input("").run()
    at.multiselect[0].select("transformer").select("line").run()
    assert list(_table(at)["Name"]) == ["L1", "T1"]


def test_the_list_sorts_on_the_server(open_app, app_db):
    make_component(app_db, TRANSFORMER, name="T-small", capacity_mva=10)
    make_component(app_db, TRANSFORMER, name="T-big", capacity_mva=63)
    at = open_app(as_user="ulf", page="pages/components.py")
    at.selectbox[0].select("Capacity").run()
    at.toggle[0].set_value(True).run()
    assert list(_table(at)["Name"]) == ["T-big", "T-small"]


def test_thousands_of_components_come_in_pages(open_app, app_db):
    for number in range(120):
        make_component(app_db, SWITCH, name=f"S{number:03d}")
    at = open_app(as_user="ulf", page="pages/components.py")
    assert len(_table(at)) == 50
    assert "1-50 of 120" in everything(at)
    at.session_state["components.page"] = 3
    at.run()
    assert list(_table(at)["Name"])[:2] == ["S100", "S101"]
    assert "101-120 of 120" in everything(at)


def test_a_new_search_starts_again_on_the_first_page(open_app, app_db):
    for number in range(120):
        make_component(app_db, SWITCH, name=f"S{number:03d}")
    at = open_app(as_user="ulf", page="pages/components.py")
    at.session_state["components.page"] = 3
    at.run()
    at.text_input[0].input("S1").run()  # S100-S119: fewer than one page
    assert list(_table(at)["Name"])[:2] == ["S100", "S101"]
    assert "1-20 of 20" in everything(at)


def test_picking_a_row_opens_the_component(open_app, app_db):
    make_component(app_db, LINE)
    at = open_app(as_user="ulf", page="pages/components.py")
    at.session_state["components.table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert texts(at.title) == ["L1"]
    assert at.query_params["component"]


def test_a_component_page_shows_attributes_chart_and_table(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=3)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    assert texts(at.title) == ["L1"]
    page = everything(at)
    assert "Line in substation **Riverside**" in page
    assert "Voltage: 20 kV" in page and "Length: 12.5 km" in page
    assert "Measurements (all types): 3" in page
    assert "All 3 measurements from 2024-05-01 00:00 UTC" in page
    assert at.get("plotly_chart")
    assert list(at.dataframe[0].value.columns) == ["Time (UTC)", "Voltage (kV)"]
    assert list(at.dataframe[0].value["Voltage (kV)"]) == [12.0, 11.0, 10.0]  # newest first
    assert "Edit or delete this component" not in [link.label for link in at.main.get("page_link")]


def test_the_time_range_presets_narrow_the_chart(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=200)  # 50 hours of quarter hours
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    assert "All 200 measurements" in everything(at)
    at.button_group[1].set_value("last day").run()
    assert "All 96 measurements" in everything(at)


@pytest.mark.every_backend
def test_a_manager_deletes_a_range_of_one_type_after_confirming(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, kind="voltage", count=8)  # 00:00 to 01:45
    _measure(app_db, line.id, kind="current", count=8)
    at = open_app(as_user="mona", page="pages/component.py", query={"component": line.id})
    at.date_input(key=f"delete-measurements.{line.id}.from").set_value(datetime(2024, 5, 1))
    at.time_input(key=f"delete-measurements.{line.id}.at").set_value(time(0, 30))
    at.date_input(key=f"delete-measurements.{line.id}.until").set_value(datetime(2024, 5, 1))
    at.time_input(key=f"delete-measurements.{line.id}.to").set_value(time(1, 15)).run()
    delete = at.button(key=f"delete-measurements.{line.id}.go")
    assert delete.disabled  # nothing is deleted before the confirmation
    at.checkbox(key=f"delete-measurements.{line.id}.confirm").check().run()
    at.button(key=f"delete-measurements.{line.id}.go").click().run()
    assert not at.exception, at.exception
    assert (
        "Deleted 3 voltage measurements of L1 from 2024-05-01 00:30 UTC until "
        "2024-05-01 01:15 UTC." in everything(at)
    )
    with app_db.read() as session:
        left = {
            kind: session.scalar(select(func.count()).where(Measurement.measurement_type == kind))
            for kind in ("voltage", "current")
        }
        assert rollups.differences(session).is_empty()
    assert left == {"voltage": 5, "current": 8}


def test_a_user_is_not_offered_the_deletion(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    assert "Delete measurements" not in [expander.label for expander in at.expander]


def test_another_measurement_type_without_data_says_so(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, kind="voltage")
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    at.button_group[0].set_value(["power"]).run()
    assert "No power measurements for this component. Pick another measurement." in everything(at)


def test_deep_links_open_the_component(open_app, app_db):
    line = make_component(app_db, LINE)
    at = open_app(as_user="ulf", query={"component": line.id})
    assert texts(at.title) == ["L1"]


def test_a_component_without_measurements_invites_a_manager_to_add_some(open_app, app_db):
    line = make_component(app_db, LINE)
    at = open_app(as_user="mona", page="pages/component.py", query={"component": line.id})
    assert "No measurements for this component yet." in everything(at)
    labels = [link.label for link in at.main.get("page_link")]
    assert labels == ["Substation Riverside", "Edit or delete this component", "Add or import some"]


def test_an_unknown_component_says_so(open_app):
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": 999})
    assert texts(at.error) == ["Component 999 does not exist: it may have been deleted."]
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": "abc"})
    assert "Pick a component on the Components page" in everything(at)


def _chart(at, index=0):
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def test_a_custom_range_opens_on_days_with_data_and_counts_read_right(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=96 * 2)  # two whole days of quarter hours
    _measure(app_db, line.id, start=datetime(2024, 5, 3, tzinfo=UTC), count=1)  # then one
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    at.button_group[1].set_value("custom").run()
    assert at.date_input[0].value == (datetime(2024, 5, 1).date(), datetime(2024, 5, 3).date())
    assert "All 193 measurements from 2024-05-01 00:00 UTC" in everything(at)
    at.date_input[0].set_value((datetime(2024, 5, 3).date(), datetime(2024, 5, 3).date())).run()
    assert "1 measurement from 2024-05-03 00:00 UTC to 2024-05-04 00:00 UTC." in everything(at)
    assert "All 1 measurements" not in everything(at)
    (trace,) = _chart(at)["data"]
    assert "markers" in trace["mode"]


def test_the_page_speaks_the_persons_time_zone(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=3)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    at.selectbox(key="component.zone").select("Europe/Zurich").run()
    assert "All 3 measurements from 2024-05-01 02:00 CEST" in everything(at)
    table = at.dataframe[0].value
    assert str(table["Time (Europe/Zurich)"].iloc[-1]) == "2024-05-01 02:00:00"
    assert _chart(at)["layout"]["xaxis"]["title"]["text"] == "time (Europe/Zurich)"


def test_several_measurement_types_share_one_time_axis(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, kind="voltage", count=3)
    _measure(app_db, line.id, kind="power", count=2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    at.button_group[0].set_value(["voltage", "power"]).run()
    chart = _chart(at)
    assert [a["text"] for a in chart["layout"]["annotations"]] == ["Voltage (kV)", "Power (MW)"]
    assert chart["layout"]["xaxis"]["matches"] == "x2"  # zooming one zooms both
    assert "Voltage: All 3 measurements" in everything(at)
    assert "Power: All 2 measurements" in everything(at)
    table = at.dataframe[0].value
    assert list(table.columns) == ["Time (UTC)", "Measurement", "Unit", "Value"]
    units = dict(zip(table["Measurement"], table["Unit"], strict=True))
    assert units == {"Power": "MW", "Voltage": "kV"}


def test_other_components_are_overlaid_up_to_ten(open_app, app_db):
    lines = [make_component(app_db, LINE, name=f"L{n}") for n in range(11)]
    for record in lines:
        _measure(app_db, record.id, count=2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": lines[0].id})
    compare = at.multiselect(key="compare.ids")
    assert compare.proto.max_selections == 9
    compare.set_value([lines[1].id, lines[2].id]).run()
    names = [trace["name"] for trace in _chart(at)["data"]]
    assert names == ["L0 · Riverside", "L1 · Riverside", "L2 · Riverside"]


def test_auto_refresh_says_how_often_and_reads_new_measurements(open_app, app_db):
    # the timer itself runs in the browser: tests/e2e/test_live_component.py
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    at.button_group(key="component.refresh").set_value("10 s").run()
    assert "Refreshes every 10 s" in everything(at)
    _measure(app_db, line.id, start=datetime(2024, 5, 2, tzinfo=UTC), count=1)
    at.run()  # what the timer does every 10 s
    assert "All 3 measurements" in everything(at)


def test_raw_downloads_are_offered_for_the_range_and_types(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    assert [b.label for b in at.download_button] == [
        "Download CSV (raw, this range and these types)",
        "Download Parquet (raw, this range and these types)",
    ]


def test_the_filtered_list_downloads_as_csv(open_app, app_db):
    make_component(app_db, TRANSFORMER)
    make_component(app_db, LINE)
    at = open_app(as_user="ulf", page="pages/components.py")
    assert at.download_button[0].label == "Download 2 components (these filters) as CSV"
    at.multiselect[0].select("line").run()
    assert at.download_button[0].label == "Download 1 component (these filters) as CSV"


def test_a_range_over_the_download_limit_offers_no_download_and_says_how_to_export_it(
    open_app, app_db, monkeypatch
):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=3)
    monkeypatch.setattr("core.exports.DOWNLOAD_MAX_ROWS", 2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    assert not at.download_button
    said = everything(at)
    assert "This range holds 3 measurements; a download from the dashboard holds at most 2" in said
    assert "gridboard export-measurements" in said


def _compare_expander(at):
    (expander,) = [e for e in at.expander if e.label == "Compare with other components"]
    return expander


def test_the_compare_expander_stays_open_while_its_widgets_change(open_app, app_db):
    lines = [make_component(app_db, LINE, name=f"L{n}") for n in range(3)]
    for record in lines:
        _measure(app_db, record.id, count=2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": lines[0].id})
    assert not _compare_expander(at).proto.expanded  # closed until someone opens it
    at.text_input(key="compare.q").input("L").run()
    assert _compare_expander(at).proto.expanded
    at.multiselect(key="compare.ids").set_value([lines[1].id]).run()
    assert _compare_expander(at).proto.expanded
    at.multiselect(key="compare.ids").set_value([lines[1].id, lines[2].id]).run()
    assert _compare_expander(at).proto.expanded
    assert [trace["name"] for trace in _chart(at)["data"]] == [
        "L0 · Riverside", "L1 · Riverside", "L2 · Riverside"
    ]  # fmt: skip


def test_compared_components_of_another_level_get_a_panel_of_their_own(open_app, app_db):
    line = make_component(app_db, LINE)  # 20 kV
    transformer = make_component(app_db, TRANSFORMER)  # 110 kV
    for record in (line, transformer):
        _measure(app_db, record.id, count=2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    at.multiselect(key="compare.ids").set_value([transformer.id]).run()
    chart = _chart(at)
    titles = [a["text"] for a in chart["layout"]["annotations"]]
    assert titles == ["Voltage (kV) at the 110 kV level", "Voltage (kV) at the 20 kV level"]
    axes = {trace["name"]: trace.get("yaxis", "y") for trace in chart["data"]}
    assert axes["L1 · Riverside"] != axes[f"{transformer.name} · Riverside"]


def test_the_list_aligns_numbers_right(open_app, app_db):
    """(Its height and its filters' width are tests/e2e/test_layout.py's, in Chromium.)"""
    make_component(app_db, TRANSFORMER)
    at = open_app(as_user="ulf", page="pages/components.py")
    columns = json.loads(at.dataframe[0].proto.columns)
    for name in ("Voltage (kV)", "Capacity (MVA)", "Length (km)"):
        assert columns[name]["alignment"] == "right", name
    assert "alignment" not in columns.get("Name", {})


def test_the_measurements_metric_and_the_charts_caption_agree(open_app, app_db):
    line = make_component(app_db, LINE)
    _measure(app_db, line.id, count=3)  # voltage
    _measure(app_db, line.id, kind="current", count=2)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    page = everything(at)
    assert "Measurements (all types): 5" in page  # every type
    assert "Voltage: All 3 measurements from" in page  # the type the chart shows, named
    assert "Measurements: 5" not in page
