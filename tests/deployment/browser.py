"""Chromium at a GridBoard served from a container: sign in, wait for the app to settle."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.deployment.conftest import SLOW_MS

COOKIE = "gridboard_session"


def settle(page: Any, quiet_ms: int = 800) -> None:
    """Until no script has run for ``quiet_ms``: the sign-in cookie component reruns the app
    once it has loaded, and a click before that rerun can be lost."""
    app = page.get_by_test_id("stApp")
    quiet = 0
    for _ in range(SLOW_MS // 100):
        running = app.get_attribute("data-test-script-state") != "notRunning"
        quiet = 0 if running else quiet + 100
        if quiet >= quiet_ms:
            return
        page.wait_for_timeout(100)
    pytest.fail("the app kept running for a minute")


# Chromium aborts what is in flight when the host's network changes, and starting a container
# adds a network interface (then its addresses, a second or two apart): a page loading just
# then loses one of its scripts and never draws.
NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"


def open_app(page: Any, url: str) -> None:
    """``url`` until the app is drawn; loads it again, as a person would, if the host's
    network changed under the first load (the only failure forgiven)."""
    for _ in range(5):
        aborted: list[str] = []

        def note(request: Any, aborted: list[str] = aborted) -> None:
            if request.failure == NETWORK_CHANGED:
                aborted.append(request.url)

        page.on("requestfailed", note)
        app = page.get_by_test_id("stApp")
        try:
            page.goto(url)
            for _ in range(SLOW_MS // 250):
                if app.is_visible() or aborted:
                    break
                page.wait_for_timeout(250)
        except PlaywrightError as error:
            if NETWORK_CHANGED not in str(error):
                raise
            aborted.append(url)
        finally:
            page.remove_listener("requestfailed", note)
        if app.is_visible():
            settle(page)
            return
        if not aborted:
            break
        print(f"\n[image-test] the network changed while {url} loaded ({aborted[0]}): again")
        page.wait_for_timeout(1000)  # for the interface's next address
    page.get_by_test_id("stApp").wait_for(timeout=1)  # fails with Playwright's own message


def sign_in(page: Any, url: str, username: str, password: str) -> None:
    """The sign-in form at ``url``, then the first page; waits for the cookie to be set."""
    open_app(page, url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()
    settle(page)
    for _ in range(100):
        if any(cookie["name"] == COOKIE for cookie in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    pytest.fail(f"no {COOKIE} cookie 10 s after signing in at {url}")
