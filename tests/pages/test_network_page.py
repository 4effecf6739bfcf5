"""The network view, for both roles: the diagram, its filters, and where clicks lead."""

from __future__ import annotations

import pytest

from core.grid import network
from tests.factories import LINE, SWITCH, TRANSFORMER, make_component
from tests.pages.conftest import everything, texts

PAGE = "pages/network.py"


@pytest.fixture(autouse=True)
def _forget():
    network.forget()


def _grid(db):
    make_component(db, TRANSFORMER, substation="North")
    make_component(db, SWITCH, substation="North", status="open")
    make_component(db, LINE, name="L1", substation="North", to_substation="East", voltage_kv=110)
    make_component(db, LINE, name="L2", substation="East", to_substation="South")
    make_component(db, LINE, name="L3", substation="South", voltage_kv=0.4, length_km=0.3)


def _figure(at):
    (chart,) = at.get("plotly_chart")
    return chart.proto.spec


@pytest.mark.parametrize("user", ["ulf", "mona"])
def test_every_role_sees_the_network(open_app, app_db, user):
    _grid(app_db)
    at = open_app(as_user=user, page=PAGE)
    assert texts(at.title) == ["Network"]
    page = everything(at)
    assert "3 of 3 substations and 2 lines." in page
    assert "1 line without a second end" in page
    assert list(at.dataframe[0].value["Line"]) == ["L3"]
    spec = _figure(at)
    for name in ("110 kV lines", "20 kV lines", "Substations", "With an open switch"):
        assert f'"name":"{name}"' in spec


def test_a_level_filter_narrows_the_diagram(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf", page=PAGE)
    at.multiselect(key="network.levels").select(110.0).run()
    page = everything(at)
    assert "2 of 3 substations and 1 line." in page
    assert "0 lines without a second end" in page
    assert '"name":"20 kV lines"' not in _figure(at)


def test_searching_lists_the_substations_found_with_links(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf", page=PAGE)
    at.text_input(key="network.search").input("th").run()
    assert "2 substations found" in everything(at)
    links = [link for link in at.get("page_link") if "substation" in link.proto.page]
    assert [link.proto.label for link in links] == ["North", "South"]
    assert '"name":"Found"' in _figure(at)


def test_the_lines_without_a_second_end_have_worded_headers_with_units(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf", page=PAGE)
    table = at.dataframe[0].value
    assert list(table.columns) == ["Line", "Substation", "Voltage (kV)", "Length (km)"]
    assert table.iloc[0].tolist() == ["L3", "South", 0.4, 0.3]


def test_clicking_a_line_without_a_second_end_opens_it(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf", page=PAGE)
    at.session_state["network.unconnected"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert texts(at.title) == ["L3"]


def test_an_empty_grid_says_so(open_app):
    at = open_app(as_user="ulf", page=PAGE)
    assert "No substations yet" in everything(at)


def test_the_caption_says_parallel_lines_bow_apart(open_app, app_db):
    for number in (1, 2):
        make_component(app_db, LINE, name=f"Riverside – Hilltop {number}", to_substation="Hilltop")
    at = open_app(as_user="ulf", page="pages/network.py")
    assert "lines joining the same two substations bow apart" in everything(at)
    (chart,) = at.get("plotly_chart")
    assert chart.proto.spec.count('"line:') == 2  # a diamond for each of the two lines
