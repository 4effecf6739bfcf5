"""The grid views in a real browser, on a seeded grid: the Overview, a click on the network
diagram, and a substation's page. Takes the README's screenshots of a realistic grid."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import USER_PASSWORD, Server, add_users, running_server
from tests.e2e.test_browser import _open, _settle, _sign_in

pytestmark = pytest.mark.e2e

GRIDBOARD = str(Path(sys.executable).with_name("gridboard"))


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("grid")
    database_url = f"sqlite:///{folder / 'grid.db'}"
    seed = [GRIDBOARD, "--database-url", database_url, "seed", "--components", "400"]
    subprocess.run([*seed, "--per-component", "300"], check=True, capture_output=True)
    add_users(database_url)
    with running_server(folder, database_url) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(90_000)  # the first network layout, on a busy machine
    yield opened
    context.close()


def test_a_user_reads_the_overview_clicks_the_network_and_opens_a_substation(
    page: Any, seeded_server: Server, shot: Callable[..., None]
) -> None:
    _sign_in(page, seeded_server, "ulf", USER_PASSWORD)
    page.get_by_role("heading", name="Overview").wait_for()
    page.get_by_text("120,000 measurements").wait_for()
    page.get_by_text("Newest measurement per substation").wait_for()
    shot("12-overview-demo", height=1250)

    _open(page, "Network")
    page.get_by_text("50 of 50 substations and").wait_for()
    page.locator(".js-plotly-plot").wait_for()
    shot("13-network-demo", height=1000)

    # A click on a substation opens its page.
    nodes = page.locator(".js-plotly-plot .scatterlayer .trace").last.locator("path.point")
    box = nodes.first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/substation?name=*")
    _settle(page)
    page.get_by_role("heading", name="Connections").wait_for()
    page.get_by_role("heading", name="Measurements").wait_for()

    # Search, then follow a line to the substation at its other end.
    _open(page, "Network")
    search = page.get_by_role("textbox", name="Find a substation")
    search.fill("SS-")
    search.press("Enter")
    page.get_by_text("substations found").wait_for()
    page.get_by_test_id("stPageLink").filter(has_text="SS-").first.click()
    page.wait_for_url("**/substation?name=SS-*")
    _settle(page)
    page.get_by_text("Line from").or_(page.get_by_text("Line to")).first.wait_for()
    shot("14-substation-demo", height=1500)


def test_the_alarms_page_lists_the_seeded_excursions_and_its_filters_open_in_a_menu(
    page: Any, seeded_server: Server, shot: Callable[..., None]
) -> None:
    _sign_in(page, seeded_server, "ulf", USER_PASSWORD)
    page.get_by_role("heading", name="Overview").wait_for()
    _open(page, "Alarms")
    table = page.get_by_test_id("stDataFrame")
    table.wait_for()
    page.get_by_text("active first, then alarms before warnings, oldest first").wait_for()
    menu = page.get_by_test_id("stPopover").get_by_role("button")
    menu.click()
    states = page.get_by_test_id("stMultiSelect").filter(has_text="State")
    states.get_by_text("Active, unacknowledged").wait_for()
    page.get_by_test_id("stSelectbox").filter(has_text="Type").locator("input").click()
    page.get_by_role("option", name="Line", exact=True).click()
    _settle(page)
    # the menu stays open through the rerun its own widget caused, and the page says the filter
    states.get_by_text("Active, unacknowledged").wait_for()
    page.get_by_text("Filters: Type: Line.").wait_for()
    page.keyboard.press("Escape")  # closed, the menu's filter is still said on the page
    states.wait_for(state="hidden")
    assert page.get_by_text("Filters: Type: Line.").is_visible()
    shot("15-alarms-demo", height=900)
