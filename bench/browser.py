"""What a person waits for in a real browser: Debian's Chromium driven by Playwright against
``streamlit run app.py`` over the 1M demo database (100 components x 10,000 measurements).

    python bench/browser.py [--database-url URL] [--rounds 7] [--cold] [--only-switches]

Each round starts signed out (no cookie) in a new tab; ``--cold`` gives each round a new
browser context, without the HTTP cache too, as a first visit; by default the cache is kept,
as in the browser of a person who uses the dashboard all day. A round times, from the action
to the moment the answer is on screen:

- the sign-in form: ``goto /`` until the Sign in button shows;
- sign-in to the first page: a click on Sign in until the first page's heading (Overview) shows;
- a sidebar page switch: a click on Reports until its heading shows, then on Components
  (``page switch``, the mean of the two); then Overview, Alarms and Network, each its own
  figure (``switch to ...``), and for each switch also until its script run has ended
  (``..., run ended``: the whole page sent);
- a component page by URL with its chart: ``goto /component?component=1`` until the chart's
  lines are drawn;
- a report page by URL: ``goto /report?report=1`` until its five charts are drawn.

Beside it, in the same browser, interleaved round by round, runs the floor: a bare two-page
Streamlit app (bench/browser_floor.py's ``TWO_PAGES``: two pages, each a heading, GridBoard's
``.streamlit/config.toml``, in a temporary folder), opened in a new tab, whose sidebar switch
Alpha -> Beta -> Alpha is timed the same way (click until the heading shows, and until the run
has ended; ``floor: page switch`` the mean of the two). Every switch is also printed as its
ratio to the floor's median (the heading to the floor's heading, the run's end to its end).
``--only-switches`` leaves out the two pages opened by URL.

Prints median and max of the rounds per step (seconds) and one JSON line. For the two pages
opened by URL it also prints where their time went, read in the page itself from the start of
its navigation (milliseconds, medians): when the heading showed, when the server's script run
ended, when the chart's element appeared (after Streamlit's Plotly bundle has loaded and run)
and when its lines were drawn, and the longest task that blocked the browser's main thread
(the Plotly bundle's evaluation, on these pages).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from benchlib import machine, seed_command  # noqa: E402
from browser_floor import TWO_PAGE_OPTIONS, TWO_PAGE_TITLES, TWO_PAGES, served  # noqa: E402

from core.access.users import create_user, list_users, set_password  # noqa: E402
from core.db import open_database  # noqa: E402
from core.domain import SYSTEM_ACTOR, Role  # noqa: E402
from core.measurements.measurements import series_bounds  # noqa: E402
from core.reports.jobs import generate_report  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, running_server  # noqa: E402

USERNAME = "bench"
PASSWORD = f"timing-{secrets.token_urlsafe(12)}"  # a new one per run
TIMEOUT_MS = 60_000


def prepare(url: str) -> None:
    """The demo data (when the database is empty), a manager with a password hashed at the
    production cost, and one completed report over all the data."""
    database = open_database(url)
    with database.read() as session:
        bounds = series_bounds(session=session, component_id=1)
    if bounds.first is None:
        database.dispose()
        subprocess.run(seed_command(url, 100, 10_000), check=True)
        database = open_database(url)
        with database.read() as session:
            bounds = series_bounds(session=session, component_id=1)
    assert bounds.first is not None and bounds.last is not None
    with database.write() as session:
        if any(user.username == USERNAME for user in list_users(session=session)):
            set_password(session=session, actor=SYSTEM_ACTOR, username=USERNAME, password=PASSWORD)
        else:
            create_user(
                session=session,
                actor=SYSTEM_ACTOR,
                username=USERNAME,
                password=PASSWORD,
                role=Role.MANAGER,
            )
    generate_report(
        database, actor=SYSTEM_ACTOR, start=bounds.first, end=bounds.last + timedelta(seconds=1)
    )
    database.dispose()


# Milestones of a page load, seen from inside the page (performance.now(): ms since its
# navigation started).
MILESTONES = """
window.__milestones = {};
window.__longest = 0;
const seen = (name) => {
  if (!(name in window.__milestones)) window.__milestones[name] = Math.round(performance.now());
};
new MutationObserver(() => {
  if (document.querySelector('h1')) seen('heading');
  if (document.querySelector('[data-testid=stPlotlyChart]')) seen('chart element');
  if (document.querySelector('[data-testid=stPlotlyChart] path.js-line')) seen('chart lines');
  const app = document.querySelector('[data-testid=stApp]');
  const state = app && app.getAttribute('data-test-script-state');
  if (state === 'running') window.__running = true;
  if (state === 'notRunning' && window.__running) seen('script run ended');
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['data-test-script-state']});
new PerformanceObserver((list) => {
  for (const task of list.getEntries())
    window.__longest = Math.max(window.__longest, Math.round(task.duration));
}).observe({type: 'longtask', buffered: true});
"""
MILESTONE_NAMES = ("heading", "script run ended", "chart element", "chart lines")


def _milestones(page: Any) -> dict[str, float]:
    marks = page.evaluate("window.__milestones")
    found = {name: float(marks[name]) for name in MILESTONE_NAMES if name in marks}
    found["longest main-thread task"] = float(page.evaluate("window.__longest"))
    return found


def _timed(action: Callable[[], None], answered: Callable[[], None]) -> float:
    began = time.perf_counter()
    action()
    answered()
    return time.perf_counter() - began


def _idle(page: Any) -> None:
    """Until no script runs (after a sign-in, the component that writes the cookie reruns
    the app once the browser has stored it)."""
    app = page.get_by_test_id("stApp")
    quiet = 0
    while quiet < 500:
        running = app.get_attribute("data-test-script-state") != "notRunning"
        quiet = 0 if running else quiet + 50
        page.wait_for_timeout(50)


RUN_ENDED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning';
}"""


def _switch(page: Any, label: str) -> tuple[float, float]:
    """A click on the sidebar's ``label``: seconds until its page's heading shows, and until
    that page's script run has ended."""
    heading = page.get_by_role("heading", level=1).filter(has_text=label).first
    began = time.perf_counter()
    page.get_by_test_id("stSidebar").get_by_role("link", name=label, exact=True).click()
    heading.wait_for()
    shown = time.perf_counter() - began
    page.wait_for_function(RUN_ENDED, polling="raf")
    ended = time.perf_counter() - began
    _idle(page)
    return shown, ended


SWITCHES = ("Reports", "Components", "Overview", "Alarms", "Network")


def floor_round(context: Any, url: str) -> dict[str, float]:
    """The bare two-page app in a new tab of ``context`` (its own, HTTP cache kept): its first
    page, then Alpha -> Beta -> Alpha."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        first, second = TWO_PAGE_TITLES
        page.goto(url)
        page.get_by_role("heading", level=1).filter(has_text=first).first.wait_for()
        _idle(page)
        switches = [_switch(page, label) for label in (second, first)]
    finally:
        page.close()
    return {
        "floor: page switch": statistics.mean(shown for shown, _ in switches),
        "floor: page switch, run ended": statistics.mean(ended for _, ended in switches),
    }


def one_round(
    browser: Any,
    url: str,
    *,
    cold: bool,
    seen: dict[str, list[dict[str, float]]],
    only_switches: bool = False,
) -> dict[str, float]:
    if cold or not browser.contexts:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        context.add_init_script(MILESTONES)
    else:
        context = browser.contexts[0]
        context.clear_cookies()  # signed out; the HTTP cache stays
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    heading = page.get_by_role("heading", level=1)
    figures: dict[str, float] = {}
    try:
        sign_in_button = page.get_by_role("button", name="Sign in")
        figures["sign-in form"] = _timed(lambda: page.goto(url), sign_in_button.wait_for)
        _idle(page)
        page.get_by_role("textbox", name="Username").fill(USERNAME)
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        figures["sign-in to first page"] = _timed(
            sign_in_button.click, lambda: heading.filter(has_text="Overview").first.wait_for()
        )
        _idle(page)
        switched = {label: _switch(page, label) for label in SWITCHES}
        figures["page switch"] = statistics.mean(switched[label][0] for label in SWITCHES[:2])
        figures["page switch, run ended"] = statistics.mean(
            switched[label][1] for label in SWITCHES[:2]
        )
        for label in SWITCHES[2:]:
            figures[f"switch to {label}"], figures[f"switch to {label}, run ended"] = switched[
                label
            ]
        if only_switches:
            return figures
        lines = page.get_by_test_id("stPlotlyChart").locator("path.js-line").first
        figures["component page with chart"] = _timed(
            lambda: page.goto(f"{url}/component?component=1"), lines.wait_for
        )
        _idle(page)
        seen["component page"].append(_milestones(page))
        charts = page.get_by_test_id("stPlotlyChart").locator(".main-svg")

        def every_chart() -> None:  # a report has five tables, each with its chart
            page.get_by_role("heading", name="Daily averages", exact=True).wait_for()
            while charts.count() < 5:
                page.wait_for_timeout(10)

        figures["report page"] = _timed(lambda: page.goto(f"{url}/report?report=1"), every_chart)
        _idle(page)
        seen["report page"].append(_milestones(page))
    finally:
        page.close()
        if cold:
            context.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="a database seeded with the demo data (default: "
                        "a new SQLite file, seeded)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cold", action="store_true", help="a new browser context per round")
    parser.add_argument("--only-switches", action="store_true", help="time sign-in and the "
                        "sidebar switches only, not the pages opened by URL")  # fmt: skip
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridboard-bench-browser-"))
    url = args.database_url or f"sqlite:///{folder / 'demo.db'}"
    prepare(url)
    from playwright.sync_api import sync_playwright

    print(f"machine: {machine()}")
    rounds: list[dict[str, float]] = []
    seen: dict[str, list[dict[str, float]]] = {"component page": [], "report page": []}
    loads = [os.getloadavg()[0]]
    with (
        running_server(folder, url) as server,
        served(TWO_PAGES, "two_pages.py", TWO_PAGE_OPTIONS, prefix="two-pages") as floor_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        print(f"database: {url}; {args.rounds} rounds after a warm-up, the floor interleaved")
        warm_up: dict[str, list[dict[str, float]]] = {k: [] for k in seen}
        one_round(
            browser, server.url, cold=args.cold, seen=warm_up, only_switches=args.only_switches
        )
        floor_context = browser.new_context(viewport={"width": 1440, "height": 1000})
        floor_round(floor_context, floor_url)  # its warm-up
        for _ in range(args.rounds):
            figures = floor_round(floor_context, floor_url)
            figures.update(
                one_round(
                    browser,
                    server.url,
                    cold=args.cold,
                    seen=seen,
                    only_switches=args.only_switches,
                )
            )
            rounds.append(figures)
            loads.append(os.getloadavg()[0])
        browser.close()
    summary = {}
    floors = {
        ending: statistics.median(figures[f"floor: page switch{ending}"] for figures in rounds)
        for ending in ("", ", run ended")
    }
    for step in rounds[0]:
        values = [figures[step] for figures in rounds]
        median = statistics.median(values)
        summary[step] = {"median_s": median, "max_s": max(values)}
        ratio = ""
        if "switch" in step and not step.startswith("floor"):
            floor = floors[", run ended" if step.endswith(", run ended") else ""]
            summary[step]["floor_ratio"] = median / floor
            ratio = f"   {median / floor:.2f} x the floor"
        print(f"{step:36} median {median:.2f} s   max {max(values):.2f} s{ratio}")
    print(f"load average (1 min) {min(loads):.1f}-{max(loads):.1f}")
    where: dict[str, dict[str, float]] = {}
    for step, marks in seen.items():
        if not marks:
            continue
        names = [name for name in marks[0] if all(name in m for m in marks)]
        where[step] = {name: statistics.median([m[name] for m in marks]) for name in names}
        print(
            f"{step}, ms from navigation: "
            + ", ".join(f"{n} {v:.0f}" for n, v in where[step].items())
        )
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "cold": args.cold,
                "load": [min(loads), max(loads)],
                "steps": summary,
                "where": where,
            }
        )
    )


if __name__ == "__main__":
    main()
