"""What a manager does with the alarms picked on the Alarms page: acknowledge them (a comment
optional) or shelve them (for a time, a reason required), all or none. See
docs/design.md#the-alarms-page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import streamlit as st

from core.alarms.records import COMMENT_LENGTH, MAX_SHELVE, acknowledge_alarms, shelve_alarms
from core.domain import Actor
from core.errors import GridBoardError
from core.units import format_duration
from views import messages, resources, wording

# How long a shelving may last, as a manager picks it (core allows up to MAX_SHELVE).
SHELVE_FOR = [
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(days=1),
    timedelta(days=3),
    MAX_SHELVE,
]


def _duration(length: timedelta) -> str:
    return format_duration(length.total_seconds())


def _numbers(alarm_ids: Sequence[int]) -> str:
    return ", ".join(f"#{alarm_id}" for alarm_id in alarm_ids)


def _act(change: Callable[..., object], done: str, on_done: Callable[[], None]) -> None:
    """Run ``change`` in one write: on success say ``done`` and rerun the whole page; on a
    refusal say why (nothing was changed: the write is rolled back whole)."""
    try:
        with resources.database().write() as session:
            change(session)
    except GridBoardError as error:
        messages.show_error(error)
        st.caption("Nothing was changed: acknowledge or shelve the others on their own.")
        return
    messages.flash(done)
    on_done()
    st.rerun(scope="app")


def alarm_actions(actor: Actor, alarm_ids: Sequence[int], *, on_done: Callable[[], None]) -> None:
    """The acknowledge and shelve forms for ``alarm_ids`` (picked rows, in the list's order)."""
    picked = wording.count(len(alarm_ids), "alarm")
    st.caption(f"Picked: {_numbers(alarm_ids)}.")
    acknowledge_column, shelve_column = st.columns(2)
    with acknowledge_column.form("alarms.acknowledge", border=True):
        comment = st.text_input("Comment (optional)", max_chars=COMMENT_LENGTH)
        if st.form_submit_button(f"Acknowledge {picked}", icon=":material/done_all:"):
            _act(
                lambda session: acknowledge_alarms(
                    session=session, actor=actor, alarm_ids=alarm_ids, comment=comment
                ),
                f"Acknowledged {_numbers(alarm_ids)}.",
                on_done,
            )
    with shelve_column.form("alarms.shelve", border=True):
        length = st.selectbox("Shelve for", SHELVE_FOR, format_func=_duration)
        reason = st.text_input("Reason (required)", max_chars=COMMENT_LENGTH)
        if st.form_submit_button(f"Shelve {picked}", icon=":material/snooze:"):
            until = datetime.now(UTC) + length
            _act(
                lambda session: shelve_alarms(
                    session=session, actor=actor, alarm_ids=alarm_ids, until=until, reason=reason
                ),
                f"Shelved {_numbers(alarm_ids)} for {_duration(length)}.",
                on_done,
            )
