"""The floor under bench/browser.py: what Streamlit itself costs a page opened by URL on this
machine, with no GridBoard code, no database and no sign-in.

    python bench/browser_floor.py [--rounds 7]

A two-line Streamlit app (a heading; with ``?chart=1`` also a three-point Plotly chart) runs
under ``streamlit run`` with GridBoard's ``.streamlit/config.toml``; Debian's Chromium opens it
by URL in a new tab with the HTTP cache kept, as bench/browser.py does, and times:

- ``heading by URL``: ``goto /`` until the heading shows (Streamlit's frontend, a websocket
  session and one script run);
- ``chart by URL``: ``goto /?chart=1`` until the chart's line is drawn (the same, plus
  Streamlit's Plotly bundle loaded and run and one chart drawn), after a page without a chart;
- ``chart again``: the same page by URL right after it, in a new tab of the same browser.

A GridBoard page opened by URL cannot be faster than these; the difference between them and
bench/browser.py's figures is what GridBoard's pages add. Prints median and max per step and
one JSON line.

bench/browser.py takes its floor for a sidebar switch from here: ``served`` runs an app of
given files the way this script runs its own, and ``TWO_PAGES`` is the bare two-page app.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import machine  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port  # noqa: E402

APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("Floor")
if st.query_params.get("chart"):
    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2], mode="lines")))
"""
TIMEOUT_MS = 60_000
CHART_LINE = "[data-testid=stPlotlyChart] path.js-line"


# The bare two-page app bench/browser.py times a sidebar switch on: two pages, each a heading,
# in Streamlit's sidebar navigation (GridBoard's config hides it until app.py turns it on, as
# ``views.ui.only_through_app`` does; the bare app turns it on from the command line).
TWO_PAGES = {
    "two_pages.py": """
import streamlit as st

st.navigation([st.Page("alpha.py", title="Alpha"), st.Page("beta.py", title="Beta")]).run()
""",
    "alpha.py": 'import streamlit as st\n\nst.title("Alpha")\n',
    "beta.py": 'import streamlit as st\n\nst.title("Beta")\n',
}
TWO_PAGE_TITLES = ("Alpha", "Beta")
TWO_PAGE_OPTIONS = ("--client.showSidebarNavigation", "true")


def serve(
    folder: Path, files: dict[str, str], script: str, options: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run script`` of ``files`` written into ``folder`` with GridBoard's
    ``.streamlit/config.toml`` (and ``options``) on a free localhost port; the process and
    its URL once it answers."""
    for name, text in files.items():
        (folder / name).write_text(text)
    shutil.copytree(ROOT / ".streamlit", folder / ".streamlit", dirs_exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port)]
    log = (folder / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [*command, *options], cwd=folder, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"streamlit did not start; see {folder / 'streamlit.log'}")


@contextmanager
def served(
    files: dict[str, str], script: str, options: tuple[str, ...] = (), prefix: str = "floor"
) -> Iterator[str]:
    """The URL of ``serve``'s app in a temporary folder, stopped and removed on exit."""
    folder = Path(tempfile.mkdtemp(prefix=f"gridboard-bench-{prefix}-"))
    process, url = serve(folder, files, script, options)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"machine: {machine()}")
    times: dict[str, list[float]] = {"heading by URL": [], "chart by URL": [], "chart again": []}
    with served({"floor.py": APP}, "floor.py") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        for round_ in range(args.rounds + 1):  # the first is a warm-up
            for step, address, answered in (
                ("heading by URL", url, "h1"),
                ("chart by URL", f"{url}/?chart=1", CHART_LINE),
                ("chart again", f"{url}/?chart=2", CHART_LINE),
            ):
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                began = time.perf_counter()
                page.goto(address)
                page.locator(answered).first.wait_for()
                took = time.perf_counter() - began
                page.close()
                if round_:
                    times[step].append(took)
        browser.close()
    summary = {}
    for step, values in times.items():
        summary[step] = {"median_s": statistics.median(values), "max_s": max(values)}
        print(f"{step:16} median {statistics.median(values):.2f} s   max {max(values):.2f} s")
    print(json.dumps({"rounds": args.rounds, "steps": summary}))


if __name__ == "__main__":
    main()
