"""A real ``streamlit run app.py`` on a free localhost port over a temporary SQLite database,
and Debian's Chromium driven by Playwright.

Without ``/usr/bin/chromium`` the browser tests are skipped on a developer machine and fail in
CI (``CI`` set) or with ``GRIDBOARD_REQUIRE_BROWSER=1``; ``.ci/run`` installs it.

Screenshots go to a temporary folder, so a test run leaves the repository as it was;
``make screenshots`` sets ``GRIDBOARD_SCREENSHOTS_DIR=docs/screenshots`` to refresh the ones
the README shows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.access.users import create_user
from core.db import open_database
from core.domain import SYSTEM_ACTOR, Role

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS_SETTING = "GRIDBOARD_SCREENSHOTS_DIR"
MANAGER_PASSWORD = "manager-pass-1"
USER_PASSWORD = "user-pass-123"


@dataclass(frozen=True)
class Server:
    url: str
    database_url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer within 60 s:\n{log.read_text()}")


def add_users(database_url: str) -> None:
    """Mona the manager and Ulf the user, with the passwords above."""
    database = open_database(database_url)
    with database.write() as session:
        for username, password, role in (
            ("mona", MANAGER_PASSWORD, Role.MANAGER),
            ("ulf", USER_PASSWORD, Role.USER),
        ):
            create_user(
                session=session,
                actor=SYSTEM_ACTOR,
                username=username,
                password=password,
                role=role,
                display_name=username.capitalize(),
            )
    database.dispose()


@contextmanager
def running_server(folder: Path, database_url: str) -> Iterator[Server]:
    """``streamlit run app.py`` on a free port over ``database_url``, stopped on exit.

    A new process is a fresh server: nothing has run in it yet (Streamlit decides per
    process how it treats the ``pages/`` folder, see ``views.ui.only_through_app``).
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "streamlit.log"
    env = {
        **os.environ,
        "GRIDBOARD_DATABASE_URL": database_url,
        "GRIDBOARD_COOKIE_KEY": "an-end-to-end-test-cookie-key-0123456789",
        "GRIDBOARD_DEMO": "0",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_healthy(url, process, log)
        yield Server(url=url, database_url=database_url, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{folder / 'gridboard.db'}"
    add_users(database_url)
    with running_server(folder, database_url) as running:
        yield running


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser test saves its screenshots: ``GRIDBOARD_SCREENSHOTS_DIR`` (relative
    to the repository) when set, else a temporary folder."""
    chosen = os.environ.get(SCREENSHOTS_SETTING, "").strip()
    folder = ROOT / chosen if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI") or os.environ.get("GRIDBOARD_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shot(page: Any, screenshots: Path) -> Callable[..., None]:
    """``shot(name, height=...)``: a screenshot of the test module's whole ``page`` into
    ``screenshots`` (Streamlit scrolls inside the page, so the window is made as tall as the
    page needs)."""

    def take(name: str, *, height: int = 1000) -> None:
        page.set_viewport_size({"width": 1440, "height": height})
        page.wait_for_timeout(1200)  # let charts finish drawing
        page.screenshot(path=str(screenshots / f"{name}.png"))
        page.set_viewport_size({"width": 1440, "height": 1000})

    return take
