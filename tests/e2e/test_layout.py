"""What a person sees at Chromium's default window size (1280 x 720): the components list
fills the page rather than a 10-row box, a chosen filter's chip and the Reports period's
"Custom" are whole, not cut off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.db import open_database
from core.grid.components import create_component
from tests.e2e.conftest import MANAGER_PASSWORD, Server
from tests.factories import MANAGER, TRANSFORMER

pytestmark = pytest.mark.e2e

SLOW = 60_000
ROW_PX = 35  # a table row in Streamlit's data grid


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()  # the default window: no viewport chosen
    opened = context.new_page()
    opened.set_default_timeout(SLOW)
    yield opened
    context.close()


def _settle(page: Any, quiet_ms: int = 800) -> None:
    app = page.get_by_test_id("stApp")
    quiet = 0
    for _ in range(SLOW // 100):
        quiet = 0 if app.get_attribute("data-test-script-state") != "notRunning" else quiet + 100
        if quiet >= quiet_ms:
            return
        page.wait_for_timeout(100)
    pytest.fail("the app kept running for a minute")


def _sign_in(page: Any, server: Server) -> None:
    page.goto(server.url)
    _settle(page)
    page.get_by_role("textbox", name="Username").fill("mona")
    page.get_by_role("textbox", name="Password").fill(MANAGER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()
    _settle(page)


def _clipped(locator: Any) -> bool:
    """Whether the element's text is cut off (an ellipsis, or hidden overflow)."""
    return bool(locator.evaluate("e => e.scrollWidth > e.clientWidth + 1"))


def test_the_components_list_fills_the_page_and_its_filters_are_whole(
    page: Any, server: Server
) -> None:
    database = open_database(server.database_url)
    with database.write() as session:
        for number in range(30):
            create_component(
                session=session,
                actor=MANAGER,
                fields={**TRANSFORMER, "name": f"Layout T{number}", "substation": "Layoutfeld"},
            )
    database.dispose()
    _sign_in(page, server)
    page.goto(f"{server.url}/components")
    _settle(page)
    assert page.viewport_size == {"width": 1280, "height": 720}
    page.get_by_test_id("stMultiSelect").first.click()
    page.get_by_role("option", name="Transformer").click()
    page.keyboard.press("Escape")
    _settle(page)
    chip = page.locator("[data-tag] span[title]").first  # the chosen type's chip
    chip.wait_for()
    assert chip.inner_text().strip() == "Transformer"
    assert not _clipped(chip)
    assert not _clipped(page.get_by_test_id("stWidgetLabel").filter(has_text="Descending").first)
    table = page.get_by_test_id("stDataFrame").first
    box = table.bounding_box()
    assert box is not None
    assert box["height"] >= 31 * ROW_PX  # every one of the 30 rows and the header, no box


def test_the_reports_period_shows_custom_whole(page: Any, server: Server) -> None:
    _sign_in(page, server)
    page.goto(f"{server.url}/reports")
    _settle(page)
    periods = page.get_by_test_id("stButtonGroup").first
    custom = periods.get_by_text("Custom", exact=True)
    custom.wait_for()
    shown = periods.locator("xpath=..").bounding_box()  # the space the choices are given
    button = custom.bounding_box()
    assert shown is not None and button is not None
    assert button["x"] + button["width"] <= shown["x"] + shown["width"]
    assert not _clipped(periods) and not _clipped(custom)
    custom.click()
    page.get_by_text("First and last day").wait_for()  # and it works
