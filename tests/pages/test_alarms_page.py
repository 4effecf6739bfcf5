"""The Alarms page: the open list in its order, each filter, the history with durations, the CSV
file, pages of the list, a manager's acknowledge and shelve (with their audit rows), and a user
who reads only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.runtime.media_file_manager import MediaFileManager

from core.alarms.records import AlarmKind, acknowledge_alarms, get_alarm, shelve_alarms
from core.alarms.states import AlarmState, Event, transition
from core.db import Database
from core.domain import ComponentType
from core.errors import MissingPermission
from core.models import Alarm, AlarmEvent
from core.timestamps import to_micros
from tests.factories import LINE, TRANSFORMER, USER, make_component
from tests.pages.conftest import everything, texts
from views import alarm_actions

pytestmark = pytest.mark.every_backend  # acknowledge and shelve write: both databases

PAGE = "pages/alarms.py"
T0 = datetime(2024, 5, 1, 8, tzinfo=UTC)


def add_alarm(
    db: Database,
    component_id: int,
    kind: str = "high_alarm",
    *,
    raised: datetime = T0,
    cleared: datetime | None = None,
    acknowledged: bool = False,
    shelved_until: datetime | None = None,
    measurement_type: str = "voltage",
) -> int:
    """An alarm as the engine leaves it, moved through the lifecycle with its audit rows."""
    with db.write() as session:
        alarm = Alarm(
            component_id=component_id,
            measurement_type=measurement_type,
            kind=kind,
            severity="warning" if kind.endswith("warning") else "alarm",
            limit_value=121.0,
            worst_value=124.5,
            worst_at_us=to_micros(raised),
            raised_at_us=to_micros(raised),
        )
        transition(session, alarm, Event.RAISE, by="system", at=raised)
        if acknowledged:
            transition(session, alarm, Event.ACKNOWLEDGE, by="mona")
        if cleared is not None:
            alarm.cleared_at_us = to_micros(cleared)
            transition(session, alarm, Event.CLEAR, by="system", at=cleared)
        if shelved_until is not None:
            alarm.shelved_until, alarm.shelve_reason = shelved_until, "planned works"
        session.flush()
        return alarm.id


def _grid(db: Database) -> tuple[int, int]:
    """T1 (a transformer in Riverside) and L1 (a line from Riverside to Hilltop)."""
    transformer = make_component(db, TRANSFORMER)
    line = make_component(db, LINE)
    return transformer.id, line.id


def _shown(at: Any) -> list[str]:
    return list(at.dataframe[0].value["Alarm"])


def _column(at: Any, name: str) -> list[str]:
    return list(at.dataframe[0].value[name])


def _open(open_app: Any, user: str = "ulf", **query: Any) -> Any:
    at = open_app(as_user=user, page=PAGE, query=query)
    at.segmented_control(key="alarms.refresh").set_value("off").run()
    return at


def test_open_alarms_come_active_first_then_alarms_before_warnings_then_oldest(open_app, app_db):
    t1, _ = _grid(app_db)
    warning = add_alarm(app_db, t1, "high_warning", raised=T0 + timedelta(hours=1))
    late = add_alarm(app_db, t1, "high_alarm", raised=T0 + timedelta(hours=2))
    early = add_alarm(app_db, t1, "low_alarm", raised=T0 + timedelta(hours=3), acknowledged=True)
    early_raised = T0 - timedelta(hours=5)
    oldest = add_alarm(app_db, t1, "loading_alarm", raised=early_raised, measurement_type="power")
    cleared = add_alarm(app_db, t1, raised=T0 - timedelta(days=1), cleared=T0 - timedelta(hours=20))
    closed = add_alarm(app_db, t1, raised=T0, cleared=T0 + timedelta(hours=1), acknowledged=True)
    at = _open(open_app)
    assert _shown(at) == [f"#{i}" for i in (oldest, late, early, warning, cleared)]
    assert f"#{closed}" not in _shown(at)  # a closed alarm is history
    assert _column(at, "State")[:3] == [
        "Active, unacknowledged",
        "Active, unacknowledged",
        "Active, acknowledged",
    ]
    assert _column(at, "Kind")[0] == "Loading alarm"
    assert _column(at, "Limit")[0] == "121 MW"
    assert _column(at, "Worst")[1] == "124.5 kV"
    assert _column(at, "Raised (UTC)")[0] == "2024-05-01 03:00:00"
    assert "1-5 of 5: active first, then alarms before warnings, oldest first." in everything(at)


def test_times_are_on_the_wall_clock_of_the_chosen_zone(open_app, app_db):
    t1, _ = _grid(app_db)
    add_alarm(app_db, t1, raised=T0, cleared=T0 + timedelta(minutes=90))
    at = _open(open_app)
    at.selectbox(key="alarms.zone").set_value("Europe/Berlin").run()
    assert _column(at, "Raised (Europe/Berlin)") == ["2024-05-01 10:00:00"]
    assert _column(at, "Cleared (Europe/Berlin)") == ["2024-05-01 11:30:00"]


def test_a_user_sees_no_controls_and_a_pick_opens_the_components_chart_at_the_alarm(
    open_app, app_db
):
    t1, _ = _grid(app_db)
    alarm = add_alarm(app_db, t1)
    at = _open(open_app)
    assert not at.get("form")
    assert [b.label for b in at.button] == ["Sign out"]  # the sidebar's, nothing else
    assert "Select an alarm to open its component's chart at that time." in everything(at)
    _pick(at, [0])
    assert at.query_params["component"] == str(t1)
    assert at.query_params["alarm"] == str(alarm)
    assert at.title[0].value == "T1"  # the component page


def _pick(at: Any, rows: list[int]) -> Any:
    """Select ``rows`` of the alarms table, as a click on their boxes does."""
    (key,) = [table.key for table in at.dataframe if str(table.key).startswith("alarms.table.")]
    at.session_state[key] = {"selection": {"rows": rows, "columns": []}}
    return at.run()


def test_a_forged_acknowledge_or_shelve_by_a_user_is_refused_by_core(app_db):
    t1, _ = _grid(app_db)
    alarm = add_alarm(app_db, t1)
    with pytest.raises(MissingPermission), app_db.write() as session:
        acknowledge_alarms(session=session, actor=USER, alarm_ids=[alarm])
    with pytest.raises(MissingPermission), app_db.write() as session:
        shelve_alarms(
            session=session, actor=USER, alarm_ids=[alarm],
            until=datetime.now(UTC) + timedelta(hours=1), reason="mine",
        )  # fmt: skip
    with app_db.read() as session:
        record = get_alarm(session=session, alarm_id=alarm)
    assert record.state is AlarmState.ACTIVE_UNACKNOWLEDGED
    assert record.shelved_until is None
    assert [e.event for e in record.events] == ["raise"]


def test_each_filter_narrows_the_list(open_app, app_db):
    t1, l1 = _grid(app_db)
    hilltop = make_component(app_db, {**TRANSFORMER, "name": "T9", "substation": "Hilltop"}).id
    voltage = add_alarm(app_db, t1, "high_alarm", raised=T0)
    current = add_alarm(app_db, l1, "loading_warning", raised=T0 + timedelta(days=2),
                        measurement_type="current")  # fmt: skip
    silent = add_alarm(app_db, hilltop, "communication_lost", raised=T0 + timedelta(days=5),
                       measurement_type="")  # fmt: skip
    acknowledged = add_alarm(app_db, t1, "low_warning", raised=T0, acknowledged=True)
    shelved = add_alarm(app_db, t1, "low_alarm", shelved_until=datetime.now(UTC) + timedelta(1))
    at = _open(open_app)
    every = {f"#{i}" for i in (voltage, current, silent, acknowledged)}
    assert set(_shown(at)) == every  # the shelved one is hidden

    at.multiselect(key="alarms.states.open").set_value([AlarmState.ACTIVE_ACKNOWLEDGED]).run()
    assert _shown(at) == [f"#{acknowledged}"]
    at.multiselect(key="alarms.states.open").set_value(
        [AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.ACTIVE_ACKNOWLEDGED]
    ).run()

    at.selectbox(key="alarms.kind").set_value(AlarmKind.LOADING_WARNING).run()
    assert _shown(at) == [f"#{current}"]
    at.selectbox(key="alarms.kind").set_value(None).run()

    at.selectbox(key="alarms.substation").set_value("Hilltop").run()
    assert _shown(at) == [f"#{silent}"]
    assert _column(at, "Kind") == ["Communication lost"]
    at.selectbox(key="alarms.substation").set_value(None).run()

    at.selectbox(key="alarms.type").set_value(ComponentType.LINE).run()
    assert _shown(at) == [f"#{current}"]
    at.selectbox(key="alarms.type").set_value(None).run()

    # the days are the chosen zone's: 2024-05-03 in UTC holds the line's alarm
    at.date_input(key="alarms.days").set_value((T0.date() + timedelta(days=1),
                                                T0.date() + timedelta(days=3))).run()  # fmt: skip
    assert _shown(at) == [f"#{current}"]
    at.date_input(key="alarms.days").set_value(()).run()

    at.toggle(key="alarms.shelved").set_value(True).run()
    assert f"#{shelved}" in _shown(at)
    row = _shown(at).index(f"#{shelved}")
    assert _column(at, "Shelved because")[row] == "planned works"
    at.selectbox(key="alarms.kind").set_value(AlarmKind.HIGH_WARNING).run()
    assert "No alarm matches these filters." in everything(at)
    assert not at.exception


def _inside(block: Any) -> Iterator[Any]:
    for child in getattr(block, "children", {}).values():
        yield child
        yield from _inside(child)


def test_the_filters_wait_in_a_menu_and_a_narrowed_list_says_which_apply(open_app, app_db):
    """A closed menu's widgets are not drawn by the browser, which keeps the page's switch
    quick (bench/browser.py); what the menu narrows is said on the page itself."""
    t1, _ = _grid(app_db)
    add_alarm(app_db, t1, "high_alarm", raised=T0)
    at = _open(open_app)
    [menu] = [
        node
        for node in _inside(at.main)
        if type(node).__name__ == "Block" and node.proto and node.proto.HasField("popover")
    ]
    assert menu.proto.popover.label == "Filters"
    in_menu = {getattr(node, "key", None) for node in _inside(menu)}
    assert in_menu >= {"alarms.states.open", "alarms.kind", "alarms.substation", "alarms.type",
                       "alarms.days", "alarms.shelved"}  # fmt: skip
    assert not [c.value for c in at.caption if c.value.startswith("Filters:")]

    at.selectbox(key="alarms.substation").set_value("Riverside").run()
    at.selectbox(key="alarms.kind").set_value(AlarmKind.HIGH_ALARM).run()
    at.toggle(key="alarms.shelved").set_value(True).run()
    said = [c.value for c in at.caption if c.value.startswith("Filters:")]
    assert said == ["Filters: Kind: High alarm; Substation: Riverside; shelved alarms shown."]
    at.multiselect(key="alarms.states.open").set_value([]).run()
    assert "Pick one or more states in Filters to list their alarms." in everything(at)
    assert not at.exception


def test_no_open_alarms_says_every_limit_holds_or_that_shelved_ones_are_hidden(open_app, app_db):
    t1, _ = _grid(app_db)
    at = _open(open_app)
    assert "No open alarms: every limit holds." in everything(at)
    add_alarm(app_db, t1, shelved_until=datetime.now(UTC) + timedelta(hours=1))
    at.run()
    assert "1 shelved alarm would match: turn on Show shelved alarms." in everything(at)


def test_the_history_lists_cleared_alarms_newest_first_with_how_long_each_lasted(open_app, app_db):
    t1, _ = _grid(app_db)
    add_alarm(app_db, t1, raised=T0 + timedelta(days=3))  # active: not history
    short = add_alarm(app_db, t1, raised=T0, cleared=T0 + timedelta(minutes=90), acknowledged=True)
    long = add_alarm(app_db, t1, "high_warning", raised=T0 + timedelta(days=1),
                     cleared=T0 + timedelta(days=3))  # fmt: skip
    at = _open(open_app)
    at.segmented_control(key="alarms.view").set_value("History").run()
    assert _shown(at) == [f"#{long}", f"#{short}"]
    assert _column(at, "Lasted") == ["2 days", "1.5 hours"]
    assert _column(at, "State") == ["Cleared, unacknowledged", "Closed"]
    assert "newest first" in everything(at)


def _file(at: Any, kept: dict[str, Any]) -> list[dict[str, str]]:
    (download,) = at.get("download_button")
    data = kept[download.proto.deferred_file_id]()  # what a click on the button runs
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.fixture
def kept_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The callables that download buttons run on a click, by their file id."""
    kept: dict[str, Any] = {}
    register = MediaFileManager.add_deferred

    def keep(self: MediaFileManager, data_callable: Any, *args: Any, **kwargs: Any) -> str:
        file_id = register(self, data_callable, *args, **kwargs)
        kept[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return kept


def test_the_csv_holds_every_alarm_the_filters_match_not_one_page(open_app, app_db, kept_downloads):
    t1, l1 = _grid(app_db)
    ids = [add_alarm(app_db, t1, raised=T0 + timedelta(hours=h)) for h in range(3)]
    add_alarm(app_db, l1, "loading_warning", measurement_type="current")
    cleared = add_alarm(app_db, t1, "high_warning", raised=T0, cleared=T0 + timedelta(hours=2))
    at = _open(open_app)
    at.selectbox(key="alarms.substation").set_value("Riverside").run()
    at.selectbox(key="alarms.type").set_value(ComponentType.TRANSFORMER).run()
    assert at.get("download_button")[0].proto.label == ("Download 4 alarms (these filters) as CSV")
    rows = _file(at, kept_downloads)
    assert [int(r["alarm_id"]) for r in rows] == [*ids, cleared]
    first = rows[0]
    assert first["component_name"] == "T1"
    assert first["substation"] == "Riverside"
    assert first["kind"] == "high_alarm"
    assert first["state"] == "active_unacknowledged"
    assert first["limit"] == "121.0"
    assert first["raised_at"] == "2024-05-01T08:00:00Z"
    assert first["cleared_at"] == ""
    assert rows[-1]["duration_seconds"] == "7200.0"

    until = datetime(2099, 1, 1, 12, tzinfo=UTC)
    shelved = add_alarm(app_db, t1, "low_alarm", shelved_until=until)
    at.toggle(key="alarms.shelved").set_value(True).run()
    (row,) = [r for r in _file(at, kept_downloads) if r["alarm_id"] == str(shelved)]
    assert (row["shelved_until"], row["shelve_reason"]) == ("2099-01-01T12:00:00Z", "planned works")


def test_a_list_over_the_download_limit_says_how_to_narrow_it(open_app, app_db, monkeypatch):
    monkeypatch.setattr("core.exports.DOWNLOAD_MAX_ROWS", 1)
    t1, _ = _grid(app_db)
    add_alarm(app_db, t1, raised=T0)
    add_alarm(app_db, t1, raised=T0 + timedelta(hours=1))
    at = _open(open_app)
    assert not at.get("download_button")
    assert "This list holds 2 alarms; a download from the dashboard holds at most 1." in (
        everything(at)
    )


def test_long_lists_come_in_pages(open_app, app_db):
    t1, _ = _grid(app_db)
    ids = [add_alarm(app_db, t1, raised=T0 + timedelta(minutes=m)) for m in range(53)]
    at = _open(open_app)
    assert _shown(at) == [f"#{i}" for i in ids[:50]]
    assert "1-50 of 53" in everything(at)
    at.session_state["alarms.page"] = 2
    at.run()
    assert _shown(at) == [f"#{i}" for i in ids[50:]]
    assert "51-53 of 53" in everything(at)


def _events(db: Database, alarm_id: int) -> list[tuple[str, str, str, str | None]]:
    with db.read() as session:
        rows = session.scalars(
            select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)
        )
        return [(e.event, e.to_state, e.by, e.comment) for e in rows]


def _submit(at: Any, label: str) -> Any:
    button = next(b for b in at.button if b.label.startswith(label))
    return button.click().run()


def test_a_manager_acknowledges_picked_alarms_with_a_comment(open_app, app_db):
    t1, _ = _grid(app_db)
    active = add_alarm(app_db, t1, raised=T0)
    cleared = add_alarm(app_db, t1, "high_warning", raised=T0, cleared=T0 + timedelta(hours=1))
    untouched = add_alarm(app_db, t1, "low_alarm", raised=T0 + timedelta(hours=2))
    at = _open(open_app, user="mona")
    assert not at.get("form")  # nothing picked yet
    _pick(at, [0, 2])
    assert f"Picked: #{active}, #{cleared}." in everything(at)
    comment = next(t for t in at.text_input if t.label == "Comment (optional)")
    comment.input("crew on the way")
    _submit(at, "Acknowledge 2 alarms")
    assert not at.exception
    assert f"Acknowledged #{active}, #{cleared}." in texts(at.success)
    assert _events(app_db, active)[-1] == (
        "acknowledge",
        "active_acknowledged",
        "mona",
        "crew on the way",
    )
    assert _events(app_db, cleared)[-1] == ("acknowledge", "closed", "mona", "crew on the way")
    assert _events(app_db, untouched) == [("raise", "active_unacknowledged", "system", None)]
    assert _column(at, "State") == ["Active, acknowledged", "Active, unacknowledged"]
    assert not at.get("form")  # the new list starts unpicked


def test_acknowledging_one_that_cannot_be_leaves_every_picked_alarm_as_it_was(open_app, app_db):
    t1, _ = _grid(app_db)
    fresh = add_alarm(app_db, t1, raised=T0)
    seen = add_alarm(app_db, t1, raised=T0 + timedelta(hours=1), acknowledged=True)
    at = _open(open_app, user="mona")
    _pick(at, [0, 1])
    _submit(at, "Acknowledge 2 alarms")
    said = everything(at)
    assert f"Alarm {seen} is active acknowledged: it cannot take 'acknowledge'" in said
    assert "Nothing was changed" in said
    assert [e[0] for e in _events(app_db, fresh)] == ["raise"]


def test_a_manager_shelves_picked_alarms_for_a_time_with_a_reason(open_app, app_db):
    t1, _ = _grid(app_db)
    alarm = add_alarm(app_db, t1, raised=T0)
    other = add_alarm(app_db, t1, "high_warning", raised=T0)
    at = _open(open_app, user="mona")
    _pick(at, [0])
    _submit(at, "Shelve 1 alarm")
    assert "**Reason**: is required: say why" in everything(at)
    assert [e[0] for e in _events(app_db, alarm)] == ["raise"]  # nothing written

    _pick(at, [0])
    next(s for s in at.selectbox if s.label == "Shelve for").set_value(alarm_actions.SHELVE_FOR[1])
    next(t for t in at.text_input if t.label == "Reason (required)").input("planned works")
    before = datetime.now(UTC)
    _submit(at, "Shelve 1 alarm")
    assert f"Shelved #{alarm} for 4 hours." in texts(at.success)
    assert _events(app_db, alarm)[-1] == ("shelve", "active_unacknowledged", "mona",
                                          "planned works")  # fmt: skip
    with app_db.read() as session:
        until = get_alarm(session=session, alarm_id=alarm).shelved_until
    assert until is not None
    assert before + timedelta(hours=4) <= until <= datetime.now(UTC) + timedelta(hours=4)
    assert _shown(at) == [f"#{other}"]  # hidden until then
