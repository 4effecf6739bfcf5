"""Alarms as the pages draw them: the sidebar's count of unacknowledged alarms (a link to the
Alarms page when the app has one), the Overview's counts and newest alarms, a component's list
and the alarm its link names. See docs/design.md#where-alarms-show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

from core.alarms.records import AlarmRecord
from core.alarms.summary import (
    AlarmSummary,
    ComponentAlarms,
    component_alarm,
    unacknowledged_count,
)
from views import alarm_words, messages, resources, selection, wording

ALARMS_URL = "alarms"  # the Alarms page's url_path, where app.py registers one


def alarms_page(pages: Mapping[str, Iterable[Any]]) -> Any | None:
    """The Alarms page among ``st.navigation``'s ``pages``, or ``None`` when there is none."""
    for section in pages.values():
        for page in section:
            if getattr(page, "url_path", None) == ALARMS_URL:
                return page
    return None


def words(count: int) -> str:
    if count == 0:
        return "No unacknowledged alarms"
    return f"**:red[{wording.count(count, 'unacknowledged alarm')}]**"


def sidebar(pages: Mapping[str, Iterable[Any]]) -> None:
    """One count per run of the app (the state index answers it), drawn in the sidebar."""
    with resources.database().read() as session:
        count = unacknowledged_count(session=session)
    link = alarms_page(pages)
    with st.sidebar:
        if link is None:
            st.markdown(f":material/notifications: {words(count)}")
        else:
            st.page_link(link, label=words(count), icon=":material/notifications:")


def overview(summary: AlarmSummary) -> None:
    """The counts by severity, then the newest open alarms, each a link to its component."""
    columns = st.columns(4)
    columns[0].metric("Active alarms", f"{summary.alarms:,}")
    columns[1].metric("Active warnings", f"{summary.warnings:,}")
    columns[2].metric("Unacknowledged", f"{summary.unacknowledged:,}")
    columns[3].metric("Shelved", f"{summary.shelved:,}")
    if not summary.newest:
        st.success("No open alarms: nothing is outside its limits or waiting to be acknowledged.")
        return
    st.markdown("**Newest alarms**")
    for alarm in summary.newest:
        st.page_link(
            "pages/component.py",
            label=alarm_words.line(alarm),
            query_params={"component": str(alarm.component_id), "alarm": str(alarm.id)},
            icon=alarm_words.SEVERITY_ICONS.get(alarm.severity),
        )
    st.caption(
        "Open alarms not shelved, the most recently raised first. Open one to see it on its "
        "component's chart. Shelved alarms are counted apart; unacknowledged ones include those "
        "that have cleared."
    )


def linked_alarm(component_id: int) -> AlarmRecord | None:
    """The alarm ``?alarm=ID`` names, if it is one of the component's; else what is wrong
    with the link is said, and the page goes on without it."""
    alarm_id = selection.query_id("alarm")
    if alarm_id is None:
        if raw := st.query_params.get("alarm", ""):
            st.warning(
                f"The link's alarm, {wording.literal(raw)}, is not an alarm number: the "
                "component is shown without it."
            )
        return None
    with messages.problems_shown(), resources.database().read() as session:
        return component_alarm(session=session, component_id=component_id, alarm_id=alarm_id)
    return None  # the problem was shown


def component_list(alarms: ComponentAlarms) -> None:
    """A component's alarms, the most recently raised first (shelved ones too)."""
    st.subheader("Alarms")
    if not alarms.alarms:
        st.caption("No alarms for this component.")
        return
    st.dataframe(
        alarm_words.alarm_table(alarms.alarms),
        hide_index=True,
        column_config={
            name: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")
            for name in ("Raised", "Cleared")
        },
    )
    shown = len(alarms.alarms)
    more = f" (the newest {shown:,} shown)" if alarms.total > shown else ""
    st.caption(f"{wording.count(alarms.total, 'alarm')}{more}, the most recently raised first.")
