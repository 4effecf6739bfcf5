"""A substation's page, for both roles: components with latest values, connections, charts."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from core.grid.substation_records import substation_for
from core.measurements.measurements import add_measurement
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component
from tests.pages.conftest import everything, texts

PAGE = "pages/substation.py"
NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


def _measure(db, component_id, kind, moment, value):
    with db.write() as session:
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component_id,
            measurement_type=kind,
            timestamp=moment,
            value=value,
        )


def _grid(db):
    transformer = make_component(db, TRANSFORMER)
    line = make_component(db, LINE, to_substation="Hilltop")
    make_component(db, SWITCH, status="open")
    make_component(db, LINE, name="L5", substation="Seaside", to_substation="Riverside")
    _measure(db, transformer.id, "voltage", NOW - timedelta(hours=1), 109.5)
    _measure(db, transformer.id, "voltage", NOW, 110.25)
    _measure(db, line.id, "voltage", NOW, 20.1)
    return transformer, line


@pytest.mark.parametrize("user", ["ulf", "mona"])
def test_a_substation_shows_its_components_latest_values_and_connections(open_app, app_db, user):
    _grid(app_db)
    at = open_app(as_user=user, page=PAGE, query={"name": "Riverside"})
    assert texts(at.title) == ["Riverside"]
    assert texts(at.subheader) == [
        "Transformers (1)",
        "Lines (1)",
        "Switches (1)",
        "Connections",
        "Measurements",
    ]
    transformers = at.dataframe(key="substation.transformer").value
    assert list(transformers["Voltage (kV)"]) == [110.0]  # its rating
    assert list(transformers["Latest voltage (kV)"]) == [110.25]  # the newest measurement
    assert "Latest power (MW)" not in transformers.columns  # never measured: no empty column
    assert "Length (km)" not in transformers.columns  # not a transformer's field
    page = everything(at)
    assert "Line to **Hilltop**" in page
    assert "Line from **Seaside**" in page
    links = [link.proto.label for link in at.main.get("page_link")]
    assert "Hilltop" in links and "Seaside" in links
    (chart,) = at.get("plotly_chart")
    assert '"name":"T1"' in chart.proto.spec and '"name":"L1"' in chart.proto.spec


def test_picking_a_component_opens_it(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf", page=PAGE, query={"name": "Riverside"})
    at.session_state["substation.switch"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert texts(at.title) == ["S1"]


@pytest.mark.parametrize("name", ["Nowhere", "<script>", "x" * 3000])
def test_an_unknown_substation_says_so(open_app, app_db, name):
    _grid(app_db)
    at = open_app(as_user="ulf", page=PAGE, query={"name": name})
    assert not at.exception
    assert "no component is in or connected to substation" in everything(at).lower()


def test_without_a_name_the_page_says_where_to_pick_one(open_app):
    at = open_app(as_user="ulf", page=PAGE)
    assert "Pick a substation on the Network or the Overview page" in everything(at)


def test_a_lines_page_links_to_the_substations_at_both_ends(open_app, app_db):
    _transformer, line = _grid(app_db)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": line.id})
    links = [(link.proto.label, link.proto.query_string) for link in at.main.get("page_link")]
    assert ("Substation Riverside", "name=Riverside") in links
    assert ("Substation Hilltop", "name=Hilltop") in links


@pytest.mark.parametrize("user", ["ulf", "mona"])
def test_the_diagram_is_drawn_above_the_tables_with_a_download(open_app, app_db, user):
    transformer, line = _grid(app_db)
    at = open_app(as_user=user, page=PAGE, query={"name": "Riverside"})
    (diagram,) = at.get("html")
    body = diagram.proto.body
    assert f'href="component?component={transformer.id}"' in body  # a click opens it
    assert 'href="substation?name=Hilltop"' in body  # the line's far end
    source = body.split('src="data:image/svg+xml;base64,')[1].split('"')[0]
    svg = base64.b64decode(source).decode()
    assert f'data-component="{line.id}"' in svg
    assert 'data-state="open"' in svg
    (download,) = at.get("download_button")
    assert download.proto.label == "Download SVG"
    assert at.segmented_control(key="substation.refresh").value == "off"


def test_the_measurements_chart_has_a_panel_per_voltage_level(open_app, app_db):
    _grid(app_db)  # T1 at 110 kV and L1 at 20 kV measure voltage
    at = open_app(as_user="ulf", page=PAGE, query={"name": "Riverside"})
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles == ["Voltage (kV) at the 110 kV level", "Voltage (kV) at the 20 kV level"]
    axes = {trace["name"]: trace.get("yaxis", "y") for trace in spec["data"]}
    assert axes == {"T1": "y", "L1": "y2"}  # 110 kV and 20 kV never share an axis


@pytest.mark.every_backend
def test_a_substation_record_without_components_opens(open_app, app_db):
    with app_db.write() as session:
        substation_for(session, "Newfield")  # recorded (a manager named it), nothing in it yet
    at = open_app(as_user="ulf", page=PAGE, query={"name": "Newfield"})
    assert not at.exception
    assert texts(at.title) == ["Newfield"]
    assert "Substation · 0 components" in everything(at)
    assert "no component is in or connected" not in everything(at).lower()
    components = open_app(as_user="ulf", page="pages/components.py")
    assert "Newfield" in components.multiselect[1].options  # the substation filter lists it
