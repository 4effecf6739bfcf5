"""The very first request to a freshly started server, in a real browser.

Streamlit serves the first session of a new process in its old ``pages/``-folder mode (every
``pages/*.py`` on its own, without ``app.py``'s sign-in, the sidebar listing every file) until
a run calls ``st.navigation``; ``views.ui.only_through_app`` turns that off before anything is
drawn. So each test here starts its own ``streamlit run app.py`` and watches the page from its
first byte: a signed-out deep link never shows data, the sidebar or a manager page, and the
first sign-in after a start is not dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.access.users import create_user
from core.db import open_database
from core.domain import SYSTEM_ACTOR, Role
from core.grid.components import create_component
from tests.e2e.conftest import (
    MANAGER_PASSWORD,
    USER_PASSWORD,
    Server,
    add_users,
    running_server,
)
from tests.e2e.test_browser import SLOW, _nav_labels, _settle, _wait_for_cookie

pytestmark = pytest.mark.e2e

COMPONENT = "Feeder Q7"  # names that appear nowhere else on the sign-in page
SUBSTATION = "Quarry Hill"
THIRD_USER = "quentin"

# Installed before the app's own scripts: records everything the page ever showed, so a
# flash between two runs of the script is caught, not only the page the test ends on.
WATCH = """
window.__shown = {sidebar: false, nav: [], texts: []};
new MutationObserver(() => {
  const body = document.body;
  if (!body) return;
  if (document.querySelector('[data-testid="stSidebar"]')) window.__shown.sidebar = true;
  const nav = document.querySelector('[data-testid="stSidebarNav"]');
  if (nav) window.__shown.nav.push(nav.innerText);
  window.__shown.texts.push(body.textContent);  // hidden text too (a grid's cells)
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A new ``streamlit run app.py`` for this test alone, over a database with data that a
    signed-out visitor must not see."""
    database_url = f"sqlite:///{tmp_path / 'gridboard.db'}"
    add_users(database_url)
    database = open_database(database_url)
    with database.write() as session:
        create_component(
            session=session,
            actor=SYSTEM_ACTOR,
            fields={
                "name": COMPONENT,
                "substation": SUBSTATION,
                "component_type": "transformer",
                "capacity_mva": 40,
                "voltage_kv": 110,
            },
        )
        create_user(
            session=session,
            actor=SYSTEM_ACTOR,
            username=THIRD_USER,
            password="harbour-lamp-42",
            role=Role.USER,
            display_name="Quentin Quiet",
        )
    database.dispose()
    with running_server(tmp_path, database_url) as server:
        yield server


@pytest.fixture
def watched(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.add_init_script(WATCH)
    opened = context.new_page()
    opened.set_default_timeout(SLOW)
    yield opened
    context.close()


def _shown(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("window.__shown"))


def _assert_only_the_sign_in_form_was_ever_shown(page: Any) -> None:
    shown = _shown(page)
    assert shown["texts"], "the watcher saw nothing: it did not run"
    assert shown["sidebar"] is False
    assert shown["nav"] == []
    everything = "\n".join(shown["texts"])
    for secret in (COMPONENT, SUBSTATION, "Quentin", "Manage components", "Measurements"):
        assert secret not in everything
    assert page.get_by_test_id("stSidebar").count() == 0
    assert page.get_by_role("textbox", name="Username").is_visible()
    assert page.get_by_role("button", name="Sign in").is_visible()


def _wait_for_users_heading(page: Any) -> None:
    """The Users page is drawn. While a rerun draws it again (the cookie component's), the
    heading of the run before stays on the page until the new run ends, so wait for the first
    heading, then for the app to settle with exactly one."""
    page.get_by_role("heading", name="Users").first.wait_for()
    _settle(page)
    assert page.get_by_role("heading", name="Users").count() == 1


def _sign_in_here(page: Any, username: str, password: str) -> None:
    """Sign in with the form on the page that is open (the URL stays)."""
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()
    _settle(page)


@pytest.mark.parametrize("path", ["components", "users", "manage-components"])
def test_a_signed_out_deep_link_as_the_first_request_shows_only_the_sign_in_form(
    fresh_server: Server, watched: Any, path: str
) -> None:
    watched.goto(f"{fresh_server.url}/{path}")
    watched.get_by_role("button", name="Sign in").wait_for()
    _settle(watched, quiet_ms=2000)  # and nothing comes after the form
    _assert_only_the_sign_in_form_was_ever_shown(watched)
    if path != "components":  # the default page lives at the root
        assert watched.url == f"{fresh_server.url}/{path}"


def test_the_first_sign_in_after_a_start_lands_on_the_deep_link_and_stays(
    fresh_server: Server, watched: Any
) -> None:
    watched.goto(f"{fresh_server.url}/users")
    watched.get_by_role("button", name="Sign in").wait_for()
    _settle(watched)
    _sign_in_here(watched, "mona", MANAGER_PASSWORD)
    _wait_for_users_heading(watched)
    watched.get_by_text("Quentin Quiet").first.wait_for(state="attached")  # a grid cell
    assert watched.url == f"{fresh_server.url}/users"
    assert _nav_labels(watched) == [
        "Overview",
        "Network",
        "Components",
        "Alarms",
        "Reports",
        "Manage components",
        "Measurements",
        "Users",
        "Audit log",
    ]
    _wait_for_cookie(watched, present=True)
    _settle(watched, quiet_ms=2000)  # the cookie component's rerun keeps her signed in
    assert watched.get_by_role("button", name="Sign in").count() == 0
    assert watched.get_by_text("Signed in as").count() == 1

    watched.reload()  # a new session on the running server: the cookie signs her in
    _wait_for_users_heading(watched)
    _settle(watched)
    assert watched.get_by_role("button", name="Sign in").count() == 0


def test_after_a_restart_the_sign_in_cookie_opens_a_deep_link_on_the_new_server(
    fresh_server: Server, watched: Any, tmp_path: Path
) -> None:
    watched.goto(fresh_server.url)
    _settle(watched)
    _sign_in_here(watched, "mona", MANAGER_PASSWORD)
    _wait_for_cookie(watched, present=True)
    restarted = tmp_path / "restarted"
    restarted.mkdir()
    # A new process over the same database: its first request is this browser's deep link.
    with running_server(restarted, fresh_server.database_url) as again:
        watched.goto(f"{again.url}/users")
        _wait_for_users_heading(watched)
        _settle(watched, quiet_ms=2000)
        assert watched.url == f"{again.url}/users"
        assert watched.get_by_role("button", name="Sign in").count() == 0
        assert "Users" in _nav_labels(watched)


def test_a_user_signing_in_first_on_a_manager_deep_link_never_sees_the_manager_page(
    fresh_server: Server, watched: Any
) -> None:
    watched.goto(f"{fresh_server.url}/users")
    watched.get_by_role("button", name="Sign in").wait_for()
    _settle(watched)
    _assert_only_the_sign_in_form_was_ever_shown(watched)
    _sign_in_here(watched, "ulf", USER_PASSWORD)
    assert _nav_labels(watched) == ["Overview", "Network", "Components", "Alarms", "Reports"]
    _settle(watched, quiet_ms=2000)
    shown = _shown(watched)
    assert not any("Users" in labels or "Manage" in labels for labels in shown["nav"])
    everything = "\n".join(shown["texts"])
    assert "Quentin" not in everything
    assert watched.get_by_role("heading", name="Users").count() == 0
