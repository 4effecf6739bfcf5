"""A substation's single-line diagram in a real browser: drawn above the tables as the page's
own SVG, and a click on a bay opens that component's page."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import USER_PASSWORD, Server, add_users, running_server
from tests.e2e.test_browser import _goto, _settle, _sign_in

pytestmark = pytest.mark.e2e

GRIDBOARD = str(Path(sys.executable).with_name("gridboard"))


@pytest.fixture(scope="module")
def small_grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("diagram")
    database_url = f"sqlite:///{folder / 'grid.db'}"
    seed = [GRIDBOARD, "--database-url", database_url, "seed", "--components", "30"]
    subprocess.run([*seed, "--per-component", "30"], check=True, capture_output=True)
    add_users(database_url)
    with running_server(folder, database_url) as running:
        yield running, folder / "grid.db"


def _busiest_substation(path: Path) -> tuple[str, int, str]:
    """The substation with the most components, and the id and name of its first transformer
    or line."""
    with sqlite3.connect(path) as connection:
        (name,) = connection.execute(
            "SELECT substation FROM components GROUP BY substation ORDER BY count(*) DESC, "
            "substation LIMIT 1"
        ).fetchone()
        component_id, component_name = connection.execute(
            "SELECT id, name FROM components WHERE substation = ? AND component_type != 'switch' "
            "ORDER BY component_type DESC, name LIMIT 1",
            (name,),
        ).fetchone()
    return name, component_id, component_name


def test_the_diagram_shows_every_bay_and_a_click_opens_the_component(
    page: Any, small_grid: tuple[Server, Path]
) -> None:
    server, database = small_grid
    name, component_id, component_name = _busiest_substation(database)
    _sign_in(page, server, "ulf", USER_PASSWORD)
    _goto(page, f"{server.url}/substation?name={quote(name)}")
    diagram = page.locator(".gridboard-diagram img")
    diagram.wait_for()
    assert diagram.evaluate("image => image.complete && image.naturalWidth > 0")
    with sqlite3.connect(database) as connection:
        (members,) = connection.execute(
            "SELECT count(*) FROM components WHERE substation = ? OR to_substation = ?",
            (name, name),
        ).fetchone()
    areas = page.locator(".gridboard-diagram map area")
    bays = {areas.nth(i).get_attribute("href") for i in range(areas.count())}
    assert len({href for href in bays if href and href.startswith("component?")}) == members
    page.get_by_role("button", name="Download SVG").wait_for()

    # A click on the bay's symbol (the image map's area over it) opens the component.
    assert diagram.get_attribute("usemap") == "#gridboard-diagram"
    coords = page.locator(
        f'.gridboard-diagram area[href="component?component={component_id}"]'
    ).first.get_attribute("coords")
    assert coords is not None
    left, top, right, bottom = (int(n) for n in coords.split(","))
    page.mouse.wheel(0, 0)
    diagram.scroll_into_view_if_needed()
    box = diagram.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + (left + right) / 2, box["y"] + (top + bottom) / 2)
    page.wait_for_url(f"**/component?component={component_id}")
    _settle(page)
    page.get_by_role("heading", name=component_name).first.wait_for()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(90_000)
    yield opened
    context.close()
