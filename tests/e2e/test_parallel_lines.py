"""Parallel lines on the network map, in a real browser: each of several lines between the same
two substations has its own place to click, which opens that line's page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.db import open_database
from core.grid.components import create_component
from tests.e2e.conftest import USER_PASSWORD, Server, add_users, running_server
from tests.e2e.test_browser import _open, _settle, _sign_in
from tests.factories import MANAGER

pytestmark = pytest.mark.e2e

CIRCUITS = {  # name: (substation it starts from, its other end)
    "Seefeld-Fuchsberg 1": ("Seefeld", "Fuchsberg"),
    "Seefeld-Fuchsberg 2": ("Seefeld", "Fuchsberg"),
    "Seefeld-Fuchsberg 3": ("Seefeld", "Fuchsberg"),
    "Fuchsberg-Seefeld 4": ("Fuchsberg", "Seefeld"),
}


@pytest.fixture(scope="module")
def parallel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict]]:
    folder = tmp_path_factory.mktemp("parallel")
    database_url = f"sqlite:///{folder / 'parallel.db'}"
    database = open_database(database_url)
    ids = {}
    with database.write() as session:
        for name, (substation, other_end) in CIRCUITS.items():
            created = create_component(
                session=session,
                actor=MANAGER,
                fields={
                    "name": name,
                    "substation": substation,
                    "component_type": "line",
                    "voltage_kv": 110.0,
                    "length_km": 12.5,
                    "to_substation": other_end,
                },
            )
            ids[str(created.id)] = name
    database.dispose()
    add_users(database_url)
    with running_server(folder, database_url) as running:
        yield running, ids


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(90_000)
    yield opened
    context.close()


def _diamonds(page: Any) -> Any:
    """The clickable middles of the 110 kV lines, in the order of the trace's points."""
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for()
    index = plot.evaluate("gd => gd.data.findIndex(t => t.name === '110 kV lines')")
    assert index >= 0
    return plot.locator(".scatterlayer .trace").nth(index).locator("path.point")


def test_parallel_lines_each_clickable_in_the_browser(page: Any, parallel_server) -> None:
    server, ids = parallel_server
    _sign_in(page, server, "ulf", USER_PASSWORD)
    _open(page, "Network")
    assert _diamonds(page).count() == len(CIRCUITS)
    opened = {}
    for number in range(len(CIRCUITS)):
        if number:
            _open(page, "Network")
        diamond = _diamonds(page).nth(number)
        box = diamond.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url("**/component?component=*")
        _settle(page)
        line_id = page.url.rsplit("component=", 1)[1].split("&")[0]
        heading = ids[line_id]
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        opened[line_id] = heading
    assert opened == ids  # every line reached, each on its own page
