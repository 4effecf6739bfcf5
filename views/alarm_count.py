"""The sidebar's count of unacknowledged alarms, on every page for every signed-in role; a link
to the Alarms page when the app has one. See docs/design.md#where-alarms-show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

from core.alarms.summary import unacknowledged_count
from views import resources, wording

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
