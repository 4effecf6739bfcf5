"""Audit log (manager): who did what to which rows, filtered by who, what, when and text,
newest first, a page at a time, and as CSV. See docs/design.md#audit-log."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from core.access.audit_log import AuditFilter, AuditPage, audit_choices, list_audit_entries
from core.errors import GridBoardError
from core.exports import audit_csv
from views import messages, pager, resources, ui, wording

PAGE_SIZE = 50
PAGER = "audit.page"
EVERYONE, EVERYTHING = "Everyone", "Every event"


def _first_page() -> None:
    st.session_state.pop(PAGER, None)


actor = ui.require_manager("read the audit log")
st.title("Audit log")
zone = ui.browser_zone()
with resources.database().read() as session:
    actors, events = audit_choices(session=session, actor=actor)

who_column, what_column, since_column, until_column = st.columns(4)
who = who_column.selectbox("Who", [EVERYONE, *actors], key="audit.actor", on_change=_first_page)
what = what_column.selectbox(
    "Event", [EVERYTHING, *events], key="audit.event", on_change=_first_page
)
first_day = since_column.date_input(
    f"From (day, {zone})", value=None, key="audit.since", on_change=_first_page
)
last_day = until_column.date_input(
    f"Until (day included, {zone})", value=None, key="audit.until", on_change=_first_page
)
text = st.text_input(
    "Search",
    placeholder="Any text: a name, an id, a field",
    key="audit.text",
    on_change=_first_page,
)


def _midnight(day: date | None, later: int = 0) -> datetime | None:
    """The start of ``day`` (plus ``later`` days) in the browser's zone."""
    if not isinstance(day, date):
        return None
    return datetime.combine(day + timedelta(days=later), time(), ZoneInfo(zone))


where = AuditFilter(
    actor="" if who == EVERYONE else str(who),
    event="" if what == EVERYTHING else str(what),
    since=_midnight(first_day),
    until=_midnight(last_day, later=1),
    text=text,
)


def _load(offset: int) -> AuditPage:
    with resources.database().read() as session:
        return list_audit_entries(
            session=session, actor=actor, where=where, offset=offset, limit=PAGE_SIZE
        )


offset = pager.page_offset(PAGE_SIZE, key=PAGER)
try:
    page = _load(offset)
except GridBoardError as error:  # a period that ends before it starts
    messages.show_error(error)
    st.stop()
if page.total and offset >= page.total:  # the filters shrank the list under this page
    _first_page()
    page = _load(0)

if page.total == 0:
    filtered = where != AuditFilter()
    st.info(
        "Nothing in the audit log matches. Clear a filter to see more."
        if filtered
        else "The audit log is empty: changes and sign-ins appear here as they happen."
    )
    st.stop()

st.dataframe(
    pl.DataFrame(
        {
            "Time": [wording.when_in(e.at, zone) for e in page.items],
            "Who": [e.actor for e in page.items],
            "Event": [e.event for e in page.items],
            "Target": [e.target for e in page.items],
            "Outcome": [e.outcome for e in page.items],
            "Details": [e.fields for e in page.items],
        }
    ),
    hide_index=True,
)


def _csv() -> bytes:
    with resources.database().read() as session:
        return audit_csv(session=session, actor=actor, where=where)


pager.filtered_csv(wording.count(page.total, "entry", "entries"), _csv, "gridboard-audit-log.csv")
shown_to = min(page.offset + PAGE_SIZE, page.total)
st.caption(
    f"{page.offset + 1:,}-{shown_to:,} of {page.total:,}, newest first. Times in {zone}; "
    "the CSV file's are in UTC."
)
pager.pager(page.total, PAGE_SIZE, key=PAGER)
