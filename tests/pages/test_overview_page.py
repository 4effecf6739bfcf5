"""The Overview: the first page for every role, with counts, freshness and latest reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from core.domain import SYSTEM_ACTOR
from core.grid import overview
from core.measurements.measurements import add_measurement
from core.reports.jobs import generate_report
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component
from tests.pages.conftest import APP, everything, sign_in_as, texts

NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _forget():
    overview.REMEMBERED.clear()


def _measure(db, component_id, moment, kind="voltage"):
    with db.write() as session:
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component_id,
            measurement_type=kind,
            timestamp=moment,
            value=1.0,
        )


def _grid(db):
    fresh = make_component(db, TRANSFORMER)
    quiet = make_component(db, LINE, substation="Hilltop", to_substation="Riverside")
    make_component(db, SWITCH, substation="Hilltop")
    _measure(db, fresh.id, NOW)
    _measure(db, quiet.id, NOW - timedelta(days=2))
    return fresh, quiet


@pytest.mark.parametrize("user", ["ulf", "mona"])
def test_every_role_starts_on_the_overview(open_app, app_db, user):
    _grid(app_db)
    at = open_app(as_user=user)
    assert texts(at.title) == ["Overview"]
    page = everything(at)
    for metric in ("Components: 3", "Transformers: 1", "Lines: 1", "Switches: 1"):
        assert metric in page
    assert "Substations: 2" in page
    assert "2 measurements, 2024-05-08 12:00 UTC to 2024-05-10 12:00 UTC." in page
    levels = at.dataframe[0].value
    assert list(zip(levels["Type"], levels["Components"], strict=True)) == [
        ("line", 1),
        ("switch", 1),
        ("transformer", 1),
    ]


def test_freshness_lists_substations_and_the_stale_components(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf")
    page = everything(at)
    assert "stale without a measurement since 2024-05-09 12:00 UTC" in page
    assert "2 stale components" in page
    by_substation = at.dataframe(key="overview.substations").value
    assert list(by_substation["Substation"]) == ["Hilltop", "Riverside"]
    assert list(by_substation["Stale"]) == [2, 0]
    stale = at.dataframe(key="overview.stale").value
    assert list(stale["Name"]) == ["S1", "L1"]  # never measured first


def test_picking_a_stale_component_opens_it(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf")
    at.session_state["overview.stale"] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    assert texts(at.title) == ["L1"]


def test_picking_a_substation_opens_it(open_app, app_db):
    _grid(app_db)
    at = open_app(as_user="ulf")
    at.session_state["overview.substations"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert texts(at.title) == ["Hilltop"]


def test_the_latest_reports_open_from_the_overview(open_app, app_db):
    _grid(app_db)
    report = generate_report(app_db, actor=SYSTEM_ACTOR, start=NOW - timedelta(days=3), end=NOW)
    at = open_app(as_user="ulf")
    assert list(at.dataframe(key="overview.reports").value["Report"]) == [f"#{report.id}"]
    at.session_state["overview.reports"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert texts(at.title) == [f"Report #{report.id}"]


@pytest.mark.parametrize(
    ("user", "hint"),
    [("mona", "Create the first one, or import a CSV file"), ("ulf", "A manager adds them")],
)
def test_an_empty_grid_says_what_to_do_next(open_app, user, hint):
    at = open_app(as_user=user)
    assert hint in everything(at)
    assert not at.dataframe


def test_the_components_list_keeps_its_address(open_app, app_db):
    make_component(app_db, LINE)
    at = open_app(as_user="ulf", page="pages/components.py")
    assert texts(at.title) == ["Components"]
    assert list(at.dataframe[0].value["Name"]) == ["L1"]


@pytest.mark.parametrize(
    ("url", "unknown"),
    [
        ("http://127.0.0.1:8501/no-such-page", True),
        ("http://127.0.0.1:8501/", False),
        ("http://127.0.0.1:8501", False),
    ],
)
def test_an_unknown_page_url_says_it_is_unknown(app_db, url, unknown):
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.context = {"url": url}
    sign_in_as(at, app_db, "ulf")
    at.run()
    assert not at.exception
    assert texts(at.title) == ["Overview"]
    said = "There is no page at /no-such-page: this is the Overview." in " ".join(texts(at.warning))
    assert said is unknown
