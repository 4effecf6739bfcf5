"""Nothing is fetched from outside: every page of the dashboard (as a manager and as a user)
and the API's documentation pages load and draw in a browser that cannot leave the machine,
as in a control room without internet. Every request is recorded; one to another host fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from core.db import open_database
from core.domain import SYSTEM_ACTOR
from core.grid.components import list_components
from core.reports.jobs import generate_report
from core.seed import seed_grid
from tests.e2e.conftest import (
    MANAGER_PASSWORD,
    ROOT,
    USER_PASSWORD,
    Server,
    _free_port,
    add_users,
    running_server,
)
from tests.e2e.test_browser import _goto, _settle, _sign_in, _wait_for_cookie

pytestmark = pytest.mark.e2e

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
END = datetime(2024, 5, 8, tzinfo=UTC)
COMMON_PAGES = ("overview", "network", "components", "alarms", "reports")
MANAGER_PAGES = ("manage-components", "measurements", "users", "audit-log")


@dataclass(frozen=True)
class Grid:
    server: Server
    api_url: str
    component_id: int
    substation: str
    report_id: int


def _api_process(database_url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``gridboard api`` on a free port over ``database_url``, listening when it returns."""
    port = _free_port()
    environment = os.environ | {
        "GRIDBOARD_COOKIE_KEY": "an-end-to-end-test-cookie-key-0123456789",
        "GRIDBOARD_APP_RUNS_REPORTS": "false",
    }
    environment.pop("GRIDBOARD_DEMO", None)
    command = [sys.executable, "-m", "core.cli", "--database-url", database_url, "api"]
    with (folder / "api.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    for _ in range(600):
        assert process.poll() is None, (folder / "api.log").read_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"gridboard api did not listen:\n{(folder / 'api.log').read_text()}")


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grid]:
    """A seeded grid with a completed report, served by the dashboard and the API."""
    folder = tmp_path_factory.mktemp("offline")
    database_url = f"sqlite:///{folder / 'gridboard.db'}"
    add_users(database_url)
    database = open_database(database_url)
    with database.write() as session:
        seed_grid(session=session, actor=SYSTEM_ACTOR, components=12, per_component=300, end=END)
    report = generate_report(
        database, actor=SYSTEM_ACTOR, start=END - timedelta(days=2), end=END, time_zone="UTC"
    )
    with database.read() as session:
        component = list_components(session=session, limit=1).items[0]
    database.dispose()
    api, api_url = _api_process(database_url, folder)
    try:
        with running_server(folder, database_url) as server:
            yield Grid(server, api_url, component.id, component.substation, report.id)
    finally:
        api.terminate()
        api.wait(timeout=30)


@pytest.fixture
def offline(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page whose every request is recorded, and refused unless it stays on this machine."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    left: list[str] = []

    def watch(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and (
            urlsplit(url).hostname not in LOCAL_HOSTS
        ):
            left.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", watch)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("request", lambda request: _note(request.url, left))
    yield page, left
    context.close()


def _note(url: str, left: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("data", "blob", "about") and parts.hostname not in LOCAL_HOSTS:
        left.append(url)


def _icons_elsewhere(page: Any) -> list[str]:
    """The page's icon links that point off the machine (a browser fetches them outside the
    page's own requests)."""
    hrefs: list[str] = page.eval_on_selector_all(
        "link[rel~='icon'], link[rel='shortcut icon']", "links => links.map(link => link.href)"
    )
    return [href for href in hrefs if urlsplit(href).hostname not in LOCAL_HOSTS]


@pytest.mark.parametrize(
    ("username", "password", "pages"),
    [
        ("mona", MANAGER_PASSWORD, COMMON_PAGES + MANAGER_PAGES),
        ("ulf", USER_PASSWORD, COMMON_PAGES),
    ],
    ids=["manager", "user"],
)
def test_every_dashboard_page_stays_on_this_machine(
    offline: tuple[Any, list[str]], grid: Grid, username: str, password: str, pages: tuple[str, ...]
) -> None:
    page, left = offline
    _sign_in(page, grid.server, username, password)
    _wait_for_cookie(page, present=True)
    urls = [f"{grid.server.url}/{name}" for name in pages] + [
        f"{grid.server.url}/component?component={grid.component_id}",
        f"{grid.server.url}/substation?name={quote(grid.substation)}",
        f"{grid.server.url}/report?report={grid.report_id}",
    ]
    icons: list[str] = []
    for url in urls:
        _goto(page, url)
        page.get_by_text("Signed in as").wait_for()
        page.wait_for_timeout(500)  # charts and icons that load after the script ends
        _settle(page)
        icons += [f"{url}: {href}" for href in _icons_elsewhere(page)]
    assert left == []
    assert icons == []


def test_the_api_documentation_draws_without_internet(
    offline: tuple[Any, list[str]], grid: Grid
) -> None:
    page, left = offline
    page.goto(f"{grid.api_url}/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 10  # the operations list, drawn by Swagger UI
    page.goto(f"{grid.api_url}/redoc")
    page.locator("[data-section-id^='tag/']").first.wait_for()  # ReDoc's operations
    assert left == []
    assert _icons_elsewhere(page) == []
