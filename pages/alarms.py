"""Alarms: the open ones (active first, then alarms before warnings, oldest first) or the history
with durations, filtered, paged, downloaded; a manager acknowledges and shelves. See
docs/design.md#the-alarms-page."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import streamlit as st

from core.alarms.records import AlarmPage
from core.exports import alarm_download_problem, alarms_csv
from core.reports.compute import time_zone_names
from views import pager, resources, ui, wording
from views.alarm_actions import alarm_actions
from views.alarm_filters import AlarmChoice, choose_alarms
from views.alarm_table import alarm_table, table_key
from views.widgets import REFRESH

PAGE_SIZE = 50
PAGER = "alarms.page"
OPEN_VIEW, HISTORY = "Open and current", "History"
URGENT_FIRST = "active first, then alarms before warnings, oldest first. "
PICK_MANY = "Select alarms to acknowledge or shelve them, or one to open its chart."
PICK_ONE = "Select an alarm to open its component's chart at that time."
ACTED = "alarms.acted"  # counts the actions taken, so a new list forgets its picked rows


def _first_page() -> None:
    st.session_state.pop(PAGER, None)  # forgotten, not set: see pages/components.py


actor = ui.actor()
st.title("Alarms")
zones = sorted(time_zone_names())
browser_zone = st.context.timezone if st.context.timezone in zones else "UTC"
view_column, filter_column, zone_column, refresh_column = st.columns(
    [2, 1, 2, 2], vertical_alignment="bottom"
)
view = view_column.segmented_control(
    "Show",
    [OPEN_VIEW, HISTORY],
    default=OPEN_VIEW,
    required=True,
    key="alarms.view",
    on_change=_first_page,
)
zone = zone_column.selectbox("Time zone", zones, index=zones.index(browser_zone), key="alarms.zone")
refresh = refresh_column.segmented_control(
    "Auto-refresh", list(REFRESH), default="10 s", required=True, key="alarms.refresh"
)
history = view == HISTORY
box = filter_column.popover("Filters", icon=":material/filter_list:", key="alarms.filters")
chosen = choose_alarms(box, history=history, zone=zone, on_change=_first_page)
if chosen is None:
    st.stop()


def _load(chosen: AlarmChoice, offset: int, now: datetime) -> AlarmPage:
    with resources.database().read() as session:
        return chosen.filters.page(
            session, order=chosen.order, offset=offset, limit=PAGE_SIZE, now=now
        )


def _export(chosen: AlarmChoice) -> bytes:
    with resources.database().read() as session:
        return alarms_csv(session=session, filters=chosen.filters, order=chosen.order)


def _shelved(chosen: AlarmChoice, now: datetime) -> int:
    """How many alarms the filters would show with the shelved ones."""
    if chosen.filters.include_shelved:
        return 0
    with resources.database().read() as session:
        return replace(chosen.filters, include_shelved=True).count(session, now)


def _acted() -> None:
    st.session_state[ACTED] = st.session_state.get(ACTED, 0) + 1


def alarm_list(chosen: AlarmChoice, refreshing: str | None) -> None:
    now = datetime.now(UTC)
    offset = pager.page_offset(PAGE_SIZE, key=PAGER)
    page = _load(chosen, offset, now)
    if page.total and offset >= page.total:  # the list shrank under this page
        _first_page()
        page = _load(chosen, 0, now)
    if page.total == 0:
        hidden = _shelved(chosen, now)
        st.info(
            f"{wording.count(hidden, 'shelved alarm')} would match: turn on Show shelved alarms."
            if hidden
            else "No alarm matches these filters."
            if chosen.narrowed or history
            else "No open alarms: every limit holds."
        )
        return
    shelved = chosen.filters.include_shelved
    state = st.dataframe(
        alarm_table(page.alarms, time_zone=zone, history=history, shelved=shelved, now=now),
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row" if actor.is_manager else "single-row",
        key=table_key(page.alarms, st.session_state.get(ACTED, 0)),
    )
    picked = [page.alarms[row] for row in (state.selection.rows if state is not None else [])]
    updated = f" Updates itself every {refreshing}; last at {wording.when_in(now, zone)}."
    st.caption(
        f"{offset + 1:,}-{offset + len(page.alarms):,} of {page.total:,}: "
        + ("newest first. " if history else URGENT_FIRST)
        + (PICK_MANY if actor.is_manager else PICK_ONE)
        + (updated if refreshing else "")
    )
    if len(picked) == 1 and (
        not actor.is_manager or st.button(f"Open the chart of alarm #{picked[0].id}")
    ):
        st.switch_page(
            "pages/component.py",
            query_params={"component": str(picked[0].component_id), "alarm": str(picked[0].id)},
        )
    if actor.is_manager and picked:
        alarm_actions(actor, [a.id for a in picked], on_done=_acted)
    pager.pager(page.total, PAGE_SIZE, key=PAGER)
    problem = alarm_download_problem(page.total)
    if problem:
        st.info(problem, icon=":material/download:")
    else:
        pager.filtered_csv(
            wording.count(page.total, "alarm"),
            partial(_export, chosen),
            "gridboard-alarms.csv",
            key="alarms.download",
        )


seconds = REFRESH[refresh]
st.fragment(alarm_list, run_every=timedelta(seconds=seconds) if seconds else None)(
    chosen, refresh if seconds else None
)
