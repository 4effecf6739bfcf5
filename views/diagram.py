"""A substation's single-line diagram on its page, live: the one place a page hands Streamlit
HTML, and only core.diagram's own SVG (every user text escaped). See SECURITY.md."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import streamlit as st

from core.diagram import substation_svg
from core.errors import UnknownSubstation
from core.grid.substations import read_substation
from views import resources, wording
from views.widgets import REFRESH

_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def svg_file_name(substation: str) -> str:
    """A download's file name: the substation's name with only letters, digits, ``.-_``."""
    return f"diagram-{_UNSAFE_FILE_CHARACTERS.sub('-', substation).strip('-.') or 'substation'}.svg"


def embedded(svg: str) -> str:
    """``svg`` as the page shows it: without its XML declaration, in a box that scrolls
    sideways when the diagram is wider than the page (its text keeps its size)."""
    body = svg.removeprefix('<?xml version="1.0" encoding="UTF-8"?>\n')
    return f'<div class="gridboard-diagram" style="overflow-x:auto">{body}</div>'


def _draw(name: str, refreshing: str | None) -> None:
    with resources.database().read() as session:
        try:
            view = read_substation(session=session, name=name)
        except UnknownSubstation:
            st.info("This substation has no components any more.")
            return
    svg = substation_svg(view)
    st.html(embedded(svg))
    left, right = st.columns([1, 3])
    left.download_button(
        "Download SVG",
        svg.encode(),
        file_name=svg_file_name(view.name),
        mime="image/svg+xml",
        icon=":material/download:",
        key="substation.diagram.download",
    )
    if refreshing:
        right.caption(f"Refreshes every {refreshing}; last at {wording.when(datetime.now(UTC))}.")


def live_diagram(name: str) -> None:
    """The diagram of the substation ``name`` with an auto-refresh choice: a click on a
    component opens its page, a click on a line's far end that substation."""
    refresh = st.segmented_control(
        "Auto-refresh", list(REFRESH), default="off", required=True, key="substation.refresh"
    )
    seconds = REFRESH[refresh]
    run_every = timedelta(seconds=seconds) if seconds else None
    st.fragment(_draw, run_every=run_every)(name, refresh if seconds else None)
