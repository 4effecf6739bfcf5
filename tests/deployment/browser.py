"""Chromium at a GridBoard served from a container: sign in, wait for the app to settle."""

from __future__ import annotations

from typing import Any

import pytest

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


def open_app(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("stApp").wait_for()
    settle(page)


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
