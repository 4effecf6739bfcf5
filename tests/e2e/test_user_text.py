"""Names that Streamlit's renderer would rewrite (a web address, an e-mail address, emoji
and icon shortcodes, arrows) or Plotly would read as markup shown in a real browser: as typed,
and never as a link.

This is where ``tests/security/streamlit_markdown.py`` and ``tests/security/plotly_text.py``,
the models the page tests read with, meet the real renderers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest

from core.db import open_database
from core.grid.components import create_component
from core.measurements.measurements import add_measurement
from tests.e2e.conftest import USER_PASSWORD, add_users, running_server
from tests.e2e.test_browser import _goto, _sign_in
from tests.factories import MANAGER, TRANSFORMER

pytestmark = pytest.mark.e2e

NAME = "www.evil.example :smile: :material/bolt: a -> b"
SUBSTATION = "mallory@evil.example https://evil.example/x"
LINK_NAME = (
    '<a href="https://evil.example/phish">Sign in again</a> <b>b</b> <i>i</i> %{y} $x$ &lt; &amp;'
)


def test_a_component_named_like_a_link_reads_as_typed_in_the_browser(
    browser: Any, tmp_path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'gridboard.db'}"
    add_users(database_url)
    database = open_database(database_url)
    with database.write() as session:
        component = create_component(
            session=session,
            actor=MANAGER,
            fields=TRANSFORMER | {"name": NAME, "substation": SUBSTATION},
        )
    database.dispose()
    with running_server(tmp_path, database_url) as server:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            _sign_in(page, server, "ulf", USER_PASSWORD)
            _goto(page, f"{server.url}/component?component={component.id}")
            main = page.get_by_test_id("stMain")
            title = main.locator("h1").first
            assert title.inner_text().replace("\u2060", "").strip() == NAME
            caption = main.get_by_test_id("stCaptionContainer").first.inner_text()
            assert SUBSTATION in caption.replace("\u2060", "")
            # links only into GridBoard itself (the substation page names it in its query)
            hrefs = main.locator("a").evaluate_all("links => links.map(link => link.href)")
            assert [h for h in hrefs if urlparse(h).netloc != urlparse(server.url).netloc] == []
            assert not any(urlparse(h).netloc.endswith("evil.example") for h in hrefs)
            assert main.locator("[aria-label='bolt icon']").count() == 0
            text = main.inner_text()
            assert "😄" not in text and "→" not in text
        finally:
            context.close()


def test_a_component_named_like_a_link_is_text_in_the_substation_chart(
    browser: Any, tmp_path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'gridboard.db'}"
    add_users(database_url)
    database = open_database(database_url)
    newest = datetime(2024, 5, 10, 12, tzinfo=UTC)
    with database.write() as session:
        for name in (LINK_NAME, "T2"):  # two lines: the chart draws its legend
            component = create_component(
                session=session, actor=MANAGER, fields=TRANSFORMER | {"name": name}
            )
            for hours in range(3):
                add_measurement(
                    session=session,
                    actor=MANAGER,
                    component_id=component.id,
                    measurement_type="voltage",
                    timestamp=newest - timedelta(hours=hours),
                    value=110.0,
                )
    database.dispose()
    with running_server(tmp_path, database_url) as server:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            _sign_in(page, server, "ulf", USER_PASSWORD)
            _goto(page, f"{server.url}/substation?name={TRANSFORMER['substation']}")
            chart = page.locator(".js-plotly-plot").first
            chart.locator(".legendtext").first.wait_for()
            # SVG links carry their target in href or xlink:href
            targets = chart.locator("a").evaluate_all(
                "links => links.map(a => a.getAttribute('href') || a.getAttribute('xlink:href'))"
            )
            assert not [t for t in targets if t and "evil.example" in t]
            legend = chart.locator(".legendtext").all_text_contents()
            assert LINK_NAME in legend
            assert chart.locator("tspan[style*='italic']").count() == 0
        finally:
            context.close()
