"""A substation's single-line diagram on its page, live: core.diagram's SVG shown as an image
(inert: nothing in an image runs or links) with an image map of relative links, so a click on
a bay opens its component. The one place a page hands Streamlit HTML. See SECURITY.md."""

from __future__ import annotations

import base64
import html
import re
from datetime import UTC, datetime, timedelta

import streamlit as st

from core.diagram import link_areas, substation_svg
from core.errors import UnknownSubstation
from core.grid.substations import SubstationView, read_substation
from views import resources, wording
from views.widgets import REFRESH

_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def svg_file_name(substation: str) -> str:
    """A download's file name: the substation's name with only letters, digits, ``.-_``."""
    return f"diagram-{_UNSAFE_FILE_CHARACTERS.sub('-', substation).strip('-.') or 'substation'}.svg"


def embedded(view: SubstationView, svg: str) -> str:
    """``svg`` as an <img> (a data URI, at its own size in a box that scrolls sideways) and
    an image map of its links; every text in the map is HTML-escaped."""
    data = base64.b64encode(svg.encode()).decode()
    areas = "".join(
        f'<area shape="rect" coords="{x0},{y0},{x1},{y1}" href="{html.escape(href)}" '
        f'alt="{html.escape(label)}" title="{html.escape(label)}">'
        for (x0, y0, x1, y1), href, label in link_areas(view)
    )
    return (
        '<div class="gridboard-diagram" style="overflow-x:auto">'
        f'<img src="data:image/svg+xml;base64,{data}" usemap="#gridboard-diagram" '
        f'alt="Single-line diagram of {html.escape(view.name)}" style="max-width:none">'
        f'<map name="gridboard-diagram">{areas}</map></div>'
    )


def _draw(name: str, refreshing: str | None) -> None:
    with resources.database().read() as session:
        try:
            view = read_substation(session=session, name=name)
        except UnknownSubstation:
            st.info("This substation has no components any more.")
            return
    svg = substation_svg(view)
    st.html(embedded(view, svg))
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
