"""The Alarms page in a real browser: it draws the open alarms, a manager selects one and
acknowledges it, and an alarm raised meanwhile appears without a click."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.alarms.records import get_alarm
from core.alarms.states import AlarmState, Event, transition
from core.db import open_database
from core.domain import SYSTEM_ACTOR
from core.grid.components import create_component
from core.models import Alarm
from core.timestamps import to_micros
from tests.e2e.conftest import MANAGER_PASSWORD, Server, add_users, running_server
from tests.e2e.test_browser import _goto, _settle, _sign_in

pytestmark = pytest.mark.e2e

RAISED = datetime(2024, 5, 1, 13, 45, tzinfo=UTC)


def _raise(database_url: str, component_id: int, raised: datetime) -> int:
    """A high voltage alarm on ``component_id``, raised as the engine raises one."""
    database = open_database(database_url)
    with database.write() as session:
        alarm = Alarm(
            component_id=component_id, measurement_type="voltage", kind="high_alarm",
            severity="alarm", limit_value=121.0, worst_value=124.2,
            worst_at_us=to_micros(raised), raised_at_us=to_micros(raised),
        )  # fmt: skip
        transition(session, alarm, Event.RAISE, by="system", at=raised)
        session.flush()
        alarm_id = alarm.id
    database.dispose()
    return alarm_id


@pytest.fixture(scope="module")
def alarmed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    """A server over a database holding one active alarm, on T1 in Riverside."""
    folder = tmp_path_factory.mktemp("alarms")
    database_url = f"sqlite:///{folder / 'alarms.db'}"
    add_users(database_url)
    database = open_database(database_url)
    with database.write() as session:
        component = create_component(
            session=session,
            actor=SYSTEM_ACTOR,
            fields={"name": "T1", "substation": "Riverside", "component_type": "transformer",
                    "capacity_mva": 40, "voltage_kv": 110},
        )  # fmt: skip
    database.dispose()
    alarm_id = _raise(database_url, component.id, RAISED)
    with running_server(folder, database_url) as server:
        yield server, alarm_id


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    context.close()


def test_a_manager_selects_an_alarm_and_acknowledges_it(
    page: Any, alarmed: tuple[Server, int], shot: Callable[..., None]
) -> None:
    server, alarm_id = alarmed
    _sign_in(page, server, "mona", MANAGER_PASSWORD)
    _goto(page, f"{server.url}/alarms")
    page.get_by_role("heading", name="Alarms", exact=True).wait_for()
    page.get_by_text("1-1 of 1: active first").wait_for()
    table = page.get_by_test_id("stDataFrame")
    table.wait_for()
    shot("14-alarms")
    # The row's selection box: the first column of the first row under the header.
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    page.get_by_text(f"Picked: #{alarm_id}.").wait_for()
    _settle(page)
    page.get_by_role("textbox", name="Comment (optional)").fill("crew on the way")
    page.get_by_role("button", name="Acknowledge 1 alarm").click()
    page.get_by_text(f"Acknowledged #{alarm_id}.").wait_for()
    _settle(page)
    database = open_database(server.database_url)
    with database.read() as session:
        record = get_alarm(session=session, alarm_id=alarm_id)
    database.dispose()
    assert record.state is AlarmState.ACTIVE_ACKNOWLEDGED
    assert (record.events[-1].by, record.events[-1].comment) == ("mona", "crew on the way")
    assert page.get_by_text("Picked:").count() == 0  # the new list starts unselected

    # An alarm raised now shows within the refresh (10 s), without a click.
    _raise(server.database_url, record.component_id, RAISED + timedelta(hours=1))
    page.get_by_text("1-2 of 2: active first").wait_for(timeout=30_000)
