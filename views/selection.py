"""What a person picked: an id in the URL (and a detail page opened without one, or whose
subject is gone), a row of a table, a box drawn on a time axis. See docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import streamlit as st

from core.errors import GridBoardError
from views import messages


def query_id(name: str) -> int | None:
    """A positive id from the URL's query (``?component=12``), or ``None``."""
    raw = st.query_params.get(name, "")
    # ASCII digits only ("²" is a digit to isdigit() but not to int()), and few of them
    # (int() refuses more than 4300); a longer number names no component anyway.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return None
    return int(raw) or None


def none_picked(message: str, *, page: str, label: str, icon: str) -> NoReturn:
    """A detail page opened without its subject: say where to pick one, link there, stop."""
    st.info(message)
    st.page_link(page, label=label, icon=icon)
    st.stop()


@contextmanager
def gone_back_to(page: str, label: str, *errors: type[GridBoardError]) -> Iterator[None]:
    """Read a detail page's subject; if it raises one of ``errors`` (it no longer exists),
    show why, link back to ``page`` and stop."""
    try:
        yield
    except errors as error:
        messages.show_error(error)
        st.page_link(page, label=label, icon=":material/arrow_back:")
        st.stop()


def box_period(state: Any, *, time_zone: str = "UTC") -> tuple[datetime, datetime] | None:
    """The time span of a box drawn on a Plotly chart whose time axis shows wall-clock times
    in ``time_zone``, in UTC."""
    boxes = state.selection.box if state is not None else []
    if not boxes:
        return None
    low, high = sorted(boxes[0]["x"][:2])
    start, end = (_chart_time(low, time_zone), _chart_time(high, time_zone))
    return (start, end) if start < end else None


def _chart_time(value: object, time_zone: str) -> datetime:
    zone = ZoneInfo(time_zone)
    if isinstance(value, int | float):  # milliseconds since the epoch, as wall-clock time
        wall = datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)
        return wall.replace(tzinfo=zone).astimezone(UTC)
    parsed = datetime.fromisoformat(str(value))
    return (
        parsed.replace(tzinfo=zone).astimezone(UTC)
        if parsed.tzinfo is None
        else parsed.astimezone(UTC)
    )


def picked_row(frame: Any, *, key: str, times: Sequence[str] = (), **options: Any) -> int | None:
    """Draw ``frame`` as a table one row of which can be picked, its ``times`` columns shown to
    the minute; the index of the picked row, if any."""
    if times:
        options["column_config"] = {
            **{name: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm") for name in times},
            **options.get("column_config", {}),
        }
    state = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        **options,
    )
    rows = state.selection.rows if state is not None else []
    return int(rows[0]) if rows else None
