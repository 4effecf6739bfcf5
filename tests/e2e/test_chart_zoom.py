"""Issue 4 in a real browser: a box drawn over a component's chart loads finer data for the
period in the box, down to every single measurement, and a button brings the whole range back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from core.db import open_database
from core.domain import SYSTEM_ACTOR
from core.grid.components import create_component
from core.imports.measurements import import_measurements
from tests.e2e.conftest import USER_PASSWORD, Server, add_users, running_server
from tests.e2e.test_browser import SLOW, _settle, _sign_in

pytestmark = pytest.mark.e2e

START = datetime(2024, 5, 1, tzinfo=UTC)
MINUTES = 30 * 24 * 60  # a month of one voltage reading per minute: far more than a chart shows
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True)
class Shown:
    """What the caption under the chart says."""

    measurements: int
    start: datetime
    end: datetime
    points: int | None  # None: every measurement is a point
    bucket_seconds: float | None


CAPTION = re.compile(
    r"(?:All )?(?P<count>[\d,]+) measurements from (?P<start>[\d-]+ [\d:]+) UTC "
    r"to (?P<end>[\d-]+ [\d:]+) UTC(?:, shown as (?P<points>[\d,]+) points of "
    r"(?P<size>[\d.]+) (?P<unit>second|minute|hour|day)s? each)?"
)


def _moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def _shown(page: Any) -> Shown:
    captions = page.get_by_test_id("stCaptionContainer").all_inner_texts()
    (found,) = [match for text in captions if (match := CAPTION.search(text))]
    points = found["points"]
    return Shown(
        measurements=int(found["count"].replace(",", "")),
        start=_moment(found["start"]),
        end=_moment(found["end"]),
        points=int(points.replace(",", "")) if points else None,
        bucket_seconds=float(found["size"]) * UNITS[found["unit"]] if points else None,
    )


def _draw_box(page: Any, left: float, right: float) -> None:
    """Drag a box over the plot area from ``left`` to ``right`` (fractions of its width), as a
    person does with the chart's box-select tool (its drag mode on this page)."""
    plot = page.get_by_test_id("stPlotlyChart").locator(".nsewdrag").first
    area = plot.bounding_box()
    assert area is not None
    top, bottom = area["y"] + area["height"] * 0.2, area["y"] + area["height"] * 0.8
    page.mouse.move(area["x"] + area["width"] * left, top)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * right, bottom, steps=12)
    page.mouse.up()


def _wait_for_change(page: Any, before: Shown) -> Shown:
    for _ in range(SLOW // 200):
        _settle(page)
        shown = _shown(page)
        if shown != before:
            return shown
        page.wait_for_timeout(200)
    pytest.fail(f"the chart still shows {before} after the box was drawn")


@pytest.fixture(scope="module")
def month_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    folder: Path = tmp_path_factory.mktemp("zoom")
    database_url = f"sqlite:///{folder / 'gridboard.db'}"
    add_users(database_url)
    stamps = [START + timedelta(minutes=m) for m in range(MINUTES)]
    csv = pl.DataFrame(
        {
            "component_name": ["F9"] * MINUTES,
            "substation": ["Quarry Hill"] * MINUTES,
            "timestamp": [stamp.isoformat() for stamp in stamps],
            "measurement_type": ["voltage"] * MINUTES,
            "value": [110.0 + (m % 60) / 10 for m in range(MINUTES)],
        }
    ).write_csv()
    database = open_database(database_url)
    with database.write() as session:
        component = create_component(
            session=session,
            actor=SYSTEM_ACTOR,
            fields={
                "name": "F9",
                "substation": "Quarry Hill",
                "component_type": "transformer",
                "capacity_mva": 40,
                "voltage_kv": 110,
            },
        )
    with database.write() as session:
        import_measurements(
            session=session, actor=SYSTEM_ACTOR, source=csv.encode(), file_name="month.csv"
        )
    database.dispose()
    with running_server(folder, database_url) as server:
        yield server, component.id


def test_a_box_on_the_chart_loads_finer_data_for_its_period(
    month_server: tuple[Server, int], browser: Any
) -> None:
    server, component_id = month_server
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(SLOW)
    try:
        _sign_in(page, server, "ulf", USER_PASSWORD)
        page.goto(f"{server.url}/component?component={component_id}")
        page.get_by_text("measurements from").wait_for()
        _settle(page)
        whole = _shown(page)
        assert whole.measurements == MINUTES
        assert whole.start == START
        assert whole.points is not None and whole.points <= 1500
        assert whole.bucket_seconds is not None and whole.bucket_seconds > 60
        assert page.get_by_role("button", name="Show the whole time range").count() == 0

        _draw_box(page, 0.40, 0.50)  # about three days in the middle of the month
        days = _wait_for_change(page, whole)
        assert whole.start < days.start < days.end < whole.end
        assert timedelta(days=2) < days.end - days.start < timedelta(days=4)
        assert days.measurements < whole.measurements / 5
        # one reading a minute: the count matches the period the caption names
        minutes = (days.end - days.start) / timedelta(minutes=1)
        assert abs(days.measurements - minutes) <= 2
        assert days.bucket_seconds is not None
        assert days.bucket_seconds < whole.bucket_seconds / 5  # finer buckets
        page.get_by_role("button", name="Show the whole time range").wait_for()

        _draw_box(page, 0.30, 0.45)  # about half a day: fewer readings than the chart shows
        hours = _wait_for_change(page, days)
        assert days.start < hours.start < hours.end < days.end
        assert hours.points is None  # every single measurement, no buckets
        assert 0 < hours.measurements < 1500

        page.get_by_role("button", name="Show the whole time range").click()
        back = _wait_for_change(page, hours)
        assert back == whole
    finally:
        context.close()
