"""The pager under a long table, and the offset of the page it chose. See
docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def pager(total: int, page_size: int, *, key: str) -> None:
    """A pager under a table of ``total`` rows when they fill more than one page.

    The page reads the chosen page number from ``st.session_state[key]`` before it loads
    its rows, so the pager is drawn after the table.
    """
    pages = max(1, -(-total // page_size))
    if pages > 1:
        st.pagination(pages, key=key)


def page_offset(page_size: int, *, key: str) -> int:
    """The offset of the page chosen in ``pager(key=key)`` (0 before it is drawn)."""
    return (int(st.session_state.get(key, 1)) - 1) * page_size


def filtered_csv(
    counted: str, data: Callable[[], bytes], file_name: str, *, key: str | None = None
) -> None:
    """The download of every row the list's filters keep (``counted``: ``12 alarms``) as one
    CSV file, built when clicked, not on every rerun."""
    st.download_button(
        f"Download {counted} (these filters) as CSV",
        data=data,
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )
