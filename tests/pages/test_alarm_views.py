"""Alarms where operators already look: the sidebar's count on every page, the Overview's counts
and newest alarms, the Network's colours, a component's limit bands and alarm list, and the
component page opened on an alarm."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.alarms.records import list_alarms
from core.alarms.states import AlarmState
from core.grid import network, overview
from core.measurements.measurements import add_measurement
from tests.factories import LINE, MANAGER, make_component
from tests.pages.conftest import everything, texts

T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _forget():
    overview.REMEMBERED.clear()
    network.forget()


def _series(db, component_id, kind, values, *, every=timedelta(minutes=1), start=T0):
    with db.write() as session:
        for step, value in enumerate(values):
            add_measurement(
                session=session, actor=MANAGER, component_id=component_id,
                measurement_type=kind, timestamp=start + step * every, value=value,
            )  # fmt: skip


def _alarms(db, component_id):
    with db.read() as session:
        found = list_alarms(
            session=session, states=tuple(AlarmState), component_id=component_id, limit=100
        )
    return {a.kind.value: a for a in found.alarms}


def _sidebar(at):
    return "\n".join(
        [*texts(at.sidebar.markdown), *(link.label for link in at.sidebar.get("page_link"))]
    )


def _links(at):
    """(label, page, query) of each page link on the page."""
    return [
        (link.proto.label, link.proto.page, parse_qs(link.proto.query_string))
        for link in at.get("page_link")
    ]


def _numbers(values):
    """A Plotly array as sent to the browser: a list, or typed bytes in base64."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return values


def _chart(at):
    return json.loads(at.get("plotly_chart")[0].proto.spec)


@pytest.mark.every_backend
@pytest.mark.parametrize("user", ["ulf", "mona"])
def test_the_sidebar_counts_unacknowledged_alarms_on_every_page(open_app, app_db, user):
    at = open_app(as_user=user)
    assert "No unacknowledged alarms" in _sidebar(at)
    transformer = make_component(app_db)
    _series(app_db, transformer.id, "voltage", [125.0])  # a high alarm and a high warning
    at = open_app(as_user=user)
    assert "**:red[2 unacknowledged alarms]**" in _sidebar(at)
    for page in ("pages/components.py", "pages/network.py", "pages/reports.py"):
        at.switch_page(page).run()
        assert "2 unacknowledged alarms" in _sidebar(at), page


def test_the_sidebar_count_links_to_the_alarms_page_once_the_app_has_one(app_db):
    make_component_id = make_component(app_db).id
    _series(app_db, make_component_id, "voltage", [125.0])

    def script():
        import streamlit as st

        from views import alarm_sections

        pages = {"Grid": [st.Page(lambda: None, title="Home", url_path="home", default=True)]}
        if st.session_state.get("with_alarms"):
            pages["Grid"].append(st.Page(lambda: None, title="Alarms", url_path="alarms"))
        st.navigation(pages)
        alarm_sections.sidebar(pages)

    at = AppTest.from_function(script).run()
    assert not at.sidebar.get("page_link")
    assert "2 unacknowledged alarms" in texts(at.sidebar.markdown)[0]
    at.session_state["with_alarms"] = True
    at.run()
    (link,) = at.sidebar.get("page_link")
    assert link.proto.label == "**:red[2 unacknowledged alarms]**"
    assert link.proto.page.endswith("alarms")


@pytest.mark.every_backend
def test_the_overview_leads_with_the_counts_and_the_newest_alarms(open_app, app_db):
    t1 = make_component(app_db)
    line = make_component(app_db, LINE, to_substation="Hilltop")
    _series(app_db, t1.id, "voltage", [125.0])
    _series(app_db, line.id, "voltage", [21.4], start=T0 + timedelta(minutes=5))  # a warning
    newest = _alarms(app_db, line.id)["high_warning"]
    at = open_app(as_user="ulf")
    labels = [metric.label for metric in at.metric]
    assert labels[:4] == ["Active alarms", "Active warnings", "Unacknowledged", "Shelved"]
    assert [metric.value for metric in at.metric][:4] == ["1", "2", "3", "0"]
    links = [link for link in _links(at) if link[1] == "component"]
    assert len(links) == 3
    label, _page, query = links[0]  # the most recently raised first
    assert label.startswith("L1 · Riverside: high warning, worst 21.4 kV (limit 21 kV)")
    assert "raised 2024-03-01 00:05 UTC (active unacknowledged)" in label
    assert query == {"component": [str(line.id)], "alarm": [str(newest.id)]}
    assert all("T1 · Riverside" in label for label, *_ in links[1:])


def test_a_quiet_overview_says_so(open_app, app_db):
    make_component(app_db)
    at = open_app(as_user="ulf")
    assert [metric.value for metric in at.metric][:4] == ["0", "0", "0", "0"]
    assert "No open alarms" in everything(at)


def test_the_network_colours_what_is_in_alarm(open_app, app_db):
    make_component(app_db, substation="North")
    line = make_component(app_db, LINE, substation="East", to_substation="South")
    _series(app_db, line.id, "voltage", [21.4])  # a warning on the line, in East
    at = open_app(as_user="ulf", page="pages/network.py")
    traces = {trace.get("name"): trace for trace in _chart(at)["data"]}
    nodes = traces["Substations"]
    east = list(_numbers(nodes["text"])).index("East")
    node = traces["Substation in warning (no alarm)"]
    assert list(_numbers(node["x"])) == [_numbers(nodes["x"])[east]]
    assert list(_numbers(node["y"])) == [_numbers(nodes["y"])[east]]
    assert node["marker"]["color"] == "#b7791f"
    assert traces["Line in warning (no alarm)"]["line"]["color"] == "#b7791f"
    assert "Substation in alarm" not in traces
    assert "amber: in a warning and no alarm" in everything(at)


def test_a_component_page_draws_its_limits_as_bands_and_lists_its_alarms(open_app, app_db):
    line = make_component(app_db, LINE)  # 20 kV: warning outside 19..21, alarm outside 18..22
    _series(app_db, line.id, "voltage", [20.0, 21.4, 20.0, 17.5])
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    shapes = {shape.get("name"): shape for shape in _chart(at)["layout"]["shapes"]}
    assert (shapes["high warning band"]["y0"], shapes["high warning band"]["y1"]) == (21, 22)
    assert (shapes["high alarm band"]["y0"], shapes["high alarm band"]["y1"]) == (22, 23)
    assert (shapes["low alarm band"]["y0"], shapes["low alarm band"]["y1"]) == (17, 18)
    assert shapes["low alarm band"]["fillcolor"] == "#c53030"
    page = everything(at)
    assert "Active alarms: 2" in page
    assert "Bands: L1's limits in force" in page
    table = at.dataframe[-1].value
    kinds = list(table["Kind"])  # both low ones raised by the same sample, then the older one
    assert sorted(kinds[:2]) == ["low alarm", "low warning"] and kinds[2] == "high warning"
    assert list(table["State"])[-1] == "cleared unacknowledged"
    assert list(table["Limit"])[-1] == "21 kV" and list(table["Worst value"])[-1] == "21.4 kV"
    assert "3 alarms, the most recently raised first." in page


@pytest.mark.every_backend
def test_an_alarm_link_opens_the_chart_around_it_with_its_limit(open_app, app_db):
    transformer = make_component(app_db)  # 40 MVA: loading alarm at |P| 40 MW
    power = [10.0] * 36 + [45.0] * 6 + [10.0] * 30  # five-minute samples, high 03:00-03:30
    _series(app_db, transformer.id, "power", power, every=timedelta(minutes=5))
    _series(app_db, transformer.id, "voltage", [110.0])
    alarm = _alarms(app_db, transformer.id)["loading_alarm"]
    query = {"component": transformer.id, "alarm": alarm.id}
    at = open_app(as_user="ulf", page="pages/component.py", query=query)
    assert at.button_group[0].value == ["power"]
    page = everything(at)
    # An hour either side of 03:00-03:30, not the whole six hours of data.
    assert "from 2024-03-01 02:00 UTC to 2024-03-01 04:30 UTC" in page
    assert f"Alarm #{alarm.id} loading alarm: raised 2024-03-01 03:00 UTC, cleared " in page
    shapes = {shape.get("name"): shape for shape in _chart(at)["layout"]["shapes"]}
    assert shapes[f"Alarm #{alarm.id} loading alarm limit"]["y0"] == 40
    period = shapes[f"Alarm #{alarm.id} loading alarm"]
    assert (period["x0"], period["x1"]) == ("2024-03-01T03:00:00", "2024-03-01T03:30:00")
    whole = next(button for button in at.button if button.label == "Show the whole time range")
    whole.click().run()
    assert "from 2024-03-01 00:00 UTC" in everything(at)


def test_a_bad_alarm_link_says_what_is_wrong_and_shows_the_component(open_app, app_db):
    t1 = make_component(app_db)
    other = make_component(app_db, name="T2")
    _series(app_db, other.id, "voltage", [125.0])
    _series(app_db, t1.id, "voltage", [110.0])
    foreign = _alarms(app_db, other.id)["high_alarm"]
    query = {"component": t1.id, "alarm": foreign.id}
    at = open_app(as_user="ulf", page="pages/component.py", query=query)
    assert f"alarm {foreign.id} is not one of this component's: it is T2's in Riverside" in (
        everything(at)
    )
    assert texts(at.title) == ["T1"] and at.get("plotly_chart")
    at = open_app(
        as_user="ulf", page="pages/component.py", query={"component": t1.id, "alarm": "x"}
    )
    assert "The link's alarm, x, is not an alarm number" in everything(at)
    at = open_app(
        as_user="ulf", page="pages/component.py", query={"component": t1.id, "alarm": 999}
    )
    assert "Alarm 999 does not exist" in everything(at)


def test_a_silence_limit_reads_in_minutes_on_the_component_page_and_the_alarms_list():
    from core.alarms.records import AlarmKind, AlarmRecord
    from core.domain import ComponentType
    from views import alarm_table, alarm_words

    silent = AlarmRecord(
        id=1, component_id=1, component_name="T1", substation="Riverside",
        component_type=ComponentType.TRANSFORMER, measurement_type=None,
        kind=AlarmKind.COMMUNICATION_LOST, severity="alarm", limit=30.0, worst_value=None,
        worst_at=None, raised_at=T0, cleared_at=None, state=AlarmState.ACTIVE_UNACKNOWLEDGED,
        shelved_until=None, shelve_reason=None,
    )  # fmt: skip
    on_its_page = alarm_words.alarm_table([silent])
    assert on_its_page["Limit"].to_list() == ["30 min"]
    assert on_its_page["Worst value"].to_list() == ["-"]
    listed = alarm_table.alarm_table([silent], time_zone="UTC", now=T0)
    assert listed["Limit"].to_list() == ["30 min"] and listed["Worst"].to_list() == [""]
