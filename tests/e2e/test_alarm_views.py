"""Alarms in a real browser: the Overview leads with the counts, the sidebar counts what nobody
acknowledged, and a newest alarm opens its component's chart around it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.db import open_database
from core.grid.components import create_component
from core.measurements.measurements import add_measurement
from tests.e2e.conftest import USER_PASSWORD, Server, add_users, running_server
from tests.e2e.test_browser import _settle, _sign_in
from tests.factories import MANAGER, TRANSFORMER

pytestmark = pytest.mark.e2e
T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def alarmed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """T1 at 125 kV at T0 (a high alarm and a high warning), then back at 110 kV."""
    folder = tmp_path_factory.mktemp("alarms")
    database_url = f"sqlite:///{folder / 'alarms.db'}"
    add_users(database_url)
    database = open_database(database_url)
    with database.write() as session:
        t1 = create_component(session=session, actor=MANAGER, fields=TRANSFORMER)
    for step, value in enumerate([110.0, 125.0, 125.0, 110.0, 110.0]):
        with database.write() as session:
            add_measurement(
                session=session, actor=MANAGER, component_id=t1.id, measurement_type="voltage",
                timestamp=T0 + timedelta(minutes=5 * step), value=value,
            )  # fmt: skip
    with database.write() as session:
        create_component(
            session=session, actor=MANAGER, fields={**TRANSFORMER, "name": "T2"}
        )  # fmt: skip
    database.dispose()
    with running_server(folder, database_url) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, timezone_id="UTC")
    opened = context.new_page()
    yield opened
    context.close()


def test_the_overview_shows_the_alarm_counts_and_opens_an_alarm(
    page: Any, alarmed_server: Server, shot: Callable[..., None]
) -> None:
    _sign_in(page, alarmed_server, "ulf", USER_PASSWORD)
    page.get_by_role("heading", name="Overview").wait_for()
    metrics = page.get_by_test_id("stMetric")
    for label, value in (("Active alarms", "0"), ("Unacknowledged", "2"), ("Shelved", "0")):
        metric = metrics.filter(has_text=label)
        assert metric.get_by_test_id("stMetricValue").inner_text() == value, label
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("2 unacknowledged alarms").wait_for()
    shot("alarms-overview", height=900)

    page.get_by_test_id("stPageLink").filter(has_text="T1 · Riverside: high alarm").click()
    page.wait_for_url("**/component?component=*&alarm=*")
    _settle(page)
    page.get_by_role("heading", name="T1").wait_for()
    page.get_by_text(
        "high alarm: raised 2024-03-01 00:05 UTC, cleared 2024-03-01 00:15 UTC"
    ).wait_for()
    page.get_by_text("from 2024-02-29 23:05 UTC to 2024-03-01 01:15 UTC").first.wait_for()
    page.locator(".js-plotly-plot").wait_for()
    page.get_by_test_id("stSidebar").get_by_text("2 unacknowledged alarms").wait_for()
