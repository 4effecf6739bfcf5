"""A component's chart with auto-refresh on, in a real browser: a measurement stored while
the page is open appears without anyone touching the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.db import open_database
from core.domain import SYSTEM_ACTOR
from core.measurements.measurements import add_measurement
from tests.e2e.conftest import USER_PASSWORD, Server
from tests.e2e.test_browser import _settle, _sign_in, _wait_for_cookie
from tests.factories import LINE, make_component

pytestmark = pytest.mark.e2e

START = datetime(2024, 6, 1, tzinfo=UTC)


def _add(database: Any, component_id: int, minutes: int) -> None:
    with database.write() as session:
        add_measurement(
            session=session,
            actor=SYSTEM_ACTOR,
            component_id=component_id,
            measurement_type="voltage",
            timestamp=START + timedelta(minutes=minutes),
            value=20.0 + minutes / 100,
        )


def test_auto_refresh_shows_a_new_measurement_without_a_click(browser: Any, server: Server) -> None:
    database = open_database(server.database_url)
    live = make_component(database, LINE, name="Live-1", substation="Feeder")
    for minutes in range(3):
        _add(database, live.id, minutes)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _sign_in(page, server, "ulf", USER_PASSWORD)
        _wait_for_cookie(page, present=True)
        page.goto(f"{server.url}/component?component={live.id}")
        page.get_by_text("All 3 measurements").wait_for()
        page.get_by_role("radio", name="10 s").or_(
            page.get_by_role("button", name="10 s")
        ).first.click()
        page.get_by_text("Refreshes every 10 s").wait_for()
        _settle(page)
        _add(database, live.id, 3)  # stored by someone else while the page is open
        page.get_by_text("All 4 measurements").wait_for(timeout=30_000)
    finally:
        context.close()
        database.dispose()
