"""The dashboard in a real browser: a manager's day, then what a user may not see.

Screenshots of each page land in a temporary folder; ``make screenshots`` writes them to
``docs/screenshots/`` (the README shows the best ones).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.e2e.conftest import MANAGER_PASSWORD, USER_PASSWORD, Server

pytestmark = pytest.mark.e2e

SLOW = 60_000  # ms: a cold app, a report in the background
START = datetime(2024, 5, 1, tzinfo=UTC)


def _measurements() -> pl.DataFrame:
    """Two days of hourly voltage and power for T1 in Riverside."""
    hours = [START + timedelta(hours=h) for h in range(48)]
    return pl.DataFrame(
        {
            "component_name": ["T1"] * 96,
            "substation": ["Riverside"] * 96,
            "timestamp": [t.isoformat() for t in hours] * 2,
            "measurement_type": ["voltage"] * 48 + ["power"] * 48,
            "value": [110.0 + h % 3 for h in range(48)] + [12.5 - h / 10 for h in range(48)],
        }
    )


def _expected_daily_averages(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(pl.col("timestamp").str.slice(0, 10).str.to_date().alias("day"))
        .group_by("day", "measurement_type")
        .agg(pl.col("value").mean().alias("avg_value"), pl.len().alias("sample_count"))
        .sort("day", "measurement_type")
    )


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(SLOW)
    yield opened
    context.close()


def _settle(page: Any, quiet_ms: int = 800) -> None:
    """Wait until no script has run for ``quiet_ms``. The cookie component of
    streamlit-authenticator reruns the app once it has loaded; a click before that rerun can
    be lost (a person is slower than Playwright, a loaded machine slower than a person)."""
    app = page.get_by_test_id("stApp")
    quiet = 0
    for _ in range(SLOW // 100):
        running = app.get_attribute("data-test-script-state") != "notRunning"
        quiet = 0 if running else quiet + 100
        if quiet >= quiet_ms:
            return
        page.wait_for_timeout(100)
    pytest.fail("the app kept running for a minute")


def _goto(page: Any, url: str) -> None:
    page.goto(url)
    _settle(page)


def _sign_in(page: Any, server: Server, username: str, password: str) -> None:
    _goto(page, server.url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()
    _settle(page)


def _wait_for_cookie(page: Any, *, present: bool) -> None:
    for _ in range(100):
        names = {cookie["name"] for cookie in page.context.cookies()}
        if ("gridboard_session" in names) == present:
            return
        page.wait_for_timeout(100)
    pytest.fail(f"the sign-in cookie is {'missing' if present else 'still there'} after 10 s")


def _open(page: Any, label: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=label, exact=True).click()
    # a rerun in flight keeps the heading of the run before until it ends: settle on one
    page.get_by_role("heading", name=label, exact=True).first.wait_for()
    _settle(page)
    assert page.get_by_role("heading", name=label, exact=True).count() == 1


def _choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the select box whose label starts with ``label``."""
    page.get_by_role("combobox", name=label, exact=label == "Substation").click()
    page.get_by_role("option", name=option, exact=True).click()
    _settle(page)


def _nav_labels(page: Any) -> list[str]:
    links = page.get_by_test_id("stSidebarNav").get_by_role("link")
    return [text.split("\n")[-1].strip() for text in links.all_inner_texts()]  # after the icon


def test_a_manager_builds_the_grid_and_a_report_a_user_only_reads(
    page: Any, shot: Callable[..., None], server: Server, tmp_path: Path
) -> None:
    _goto(page, server.url)
    page.get_by_role("button", name="Sign in").wait_for()
    shot("01-sign-in")

    _sign_in(page, server, "mona", MANAGER_PASSWORD)
    page.get_by_text("No components yet. Create the first one").wait_for()
    _wait_for_cookie(page, present=True)  # the pages below open by URL: new sessions
    assert _nav_labels(page) == [
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

    _open(page, "Manage components")
    page.get_by_role("textbox", name="Name", exact=True).fill("T1")
    # No substation stored yet: "New substation…" is chosen, with its name field.
    page.get_by_role("textbox", name="Substation: new name").fill("Riverside")
    page.get_by_role("spinbutton", name="Capacity (MVA)").fill("40")
    page.get_by_role("spinbutton", name="HV voltage (kV)").fill("110")
    page.get_by_role("button", name="Create component").click()
    page.get_by_text("Created T1 in Riverside.").wait_for()
    shot("02-create-component")
    page.get_by_test_id("stRadio").first.get_by_text("Line", exact=True).click()
    page.get_by_role("spinbutton", name="Length (km)").wait_for()
    page.get_by_role("textbox", name="Name", exact=True).fill("L1")
    _choose(page, "Substation", "Riverside")
    _choose(page, "To substation", "New substation…")
    page.get_by_role("textbox", name="To substation: new name").fill("Hilltop")
    page.get_by_role("spinbutton", name="Length (km)").fill("12.5")
    page.get_by_role("spinbutton", name="Nominal voltage (kV)").fill("20")
    page.get_by_role("button", name="Create component").click()
    page.get_by_text("Created L1 in Riverside.").wait_for()

    _open(page, "Measurements")
    measurements = _measurements()
    upload = tmp_path / "measurements.csv"
    measurements.write_csv(upload)
    page.locator("input[type='file']").set_input_files(str(upload))
    page.get_by_role("button", name="Import measurements.csv").click()
    page.get_by_text("Imported measurements.csv: 96 rows, 96 measurements added").wait_for()
    shot("03-import-measurements", height=1300)

    _open(page, "Overview")
    page.get_by_text("96 measurements, 2024-05-01 00:00 UTC to 2024-05-02 23:00 UTC.").wait_for()
    page.get_by_text("1 stale component").wait_for()  # L1 has no measurement
    shot("09-overview", height=1100)
    _open(page, "Network")
    page.get_by_text("2 of 2 substations and 1 line.").wait_for()
    shot("10-network", height=1000)
    _goto(page, f"{server.url}/substation?name=Riverside")
    page.get_by_role("heading", name="Riverside").wait_for()
    page.get_by_text("Line to Hilltop").wait_for()
    shot("11-substation", height=1400)
    page.get_by_role("link", name="Hilltop").click()  # the line's other end
    page.get_by_role("heading", name="Hilltop").wait_for()

    _open(page, "Components")
    page.get_by_text("1-2 of 2").wait_for()
    shot("04-components")
    _goto(page, f"{server.url}/component?component=1")
    page.get_by_text("All 48 measurements from 2024-05-01 00:00 UTC").wait_for()
    shot("05-component", height=1500)

    _open(page, "Reports")
    page.get_by_role("radio", name="All data").click()
    page.get_by_text("Period: 2024-05-01 to 2024-05-02 (").wait_for()
    page.get_by_role("button", name="Generate report").click()
    page.get_by_text("Report #1 is on its way").wait_for()
    shot("06-reports")

    _goto(page, f"{server.url}/?report=1")  # a deep link to the root opens the report
    page.get_by_role("heading", name="Daily averages").first.wait_for()  # the page waits live
    shot("07-report", height=2300)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download daily_averages.csv").click()
    csv = Path(download.value.path()).read_bytes()
    daily = pl.read_csv(io.BytesIO(csv), try_parse_dates=True)
    assert daily.columns == [
        "day",
        "measurement_type",
        "component_type",
        "avg_value",
        "sample_count",
        "min_value",
        "max_value",
        "partial_day",  # neither day: the report was computed long after both ended
    ]
    assert daily["partial_day"].to_list() == [False] * daily.height
    assert set(daily["component_type"]) == {"transformer"}
    expected = _expected_daily_averages(measurements)
    got = daily.select("day", "measurement_type", "avg_value", "sample_count")
    assert got["day"].to_list() == expected["day"].to_list()
    assert got["measurement_type"].to_list() == expected["measurement_type"].to_list()
    assert got["sample_count"].to_list() == expected["sample_count"].to_list()
    for found, wanted in zip(got["avg_value"], expected["avg_value"], strict=True):
        assert found == pytest.approx(wanted)

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    _wait_for_cookie(page, present=False)  # signed out for good: a reload does not sign in
    page.reload()
    _settle(page)
    page.get_by_role("button", name="Sign in").wait_for()

    _sign_in(page, server, "ulf", USER_PASSWORD)
    assert _nav_labels(page) == ["Overview", "Network", "Components", "Alarms", "Reports"]
    page.get_by_role("heading", name="Overview").wait_for()  # every role starts there
    page.get_by_test_id("stSidebar").get_by_text("ulf · user").wait_for()  # `ulf` is code
    _open(page, "Components")
    shot("08-user-components")
    for typed, action in (
        ("users", "manage users"),
        ("manage-components", "create, edit, delete or import components"),
        ("measurements", "add or import measurements"),
    ):
        _goto(page, f"{server.url}/{typed}")  # typed by hand: the page says why not
        page.get_by_text(f"Only a manager may {action}.").wait_for()
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_role("heading", name="Users").count() == 0
    assert _nav_labels(page) == ["Overview", "Network", "Components", "Alarms", "Reports"]


def test_every_page_opens_at_its_typed_url(page: Any, server: Server) -> None:
    _sign_in(page, server, "mona", MANAGER_PASSWORD)
    _wait_for_cookie(page, present=True)
    for typed, heading in (
        ("overview", "Overview"),
        ("network", "Network"),
        ("components", "Components"),
        ("alarms", "Alarms"),
        ("reports", "Reports"),
        ("manage-components", "Manage components"),
        ("measurements", "Measurements"),
        ("users", "Users"),
        ("audit-log", "Audit log"),
    ):
        _goto(page, f"{server.url}/{typed}")
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
        assert page.get_by_text("Page not found").count() == 0, typed
