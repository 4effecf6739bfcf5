"""Who may see a page: every run goes through ``app.py`` and its signed-in user; a manager's page
refuses anyone else. See docs/architecture.md#pages-in-pages-safely."""

from __future__ import annotations

from urllib.parse import urlparse

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.domain import Actor
from core.reports.compute import time_zone_names
from views import wording

ACTOR_KEY = "gridboard.actor"


def only_through_app() -> None:
    """Make sure this run goes through ``app.py``: its sign-in and its ``st.navigation``.

    Streamlit (1.67, ``runtime/pages_manager.py``) sees the top-level ``pages/`` folder at
    the first session of a fresh server and runs its old pages-directory mode: every
    ``pages/*.py`` becomes a page that runs on its own, without ``app.py``, and ``app.py``
    itself runs nested inside that mode's navigation, until some run has called
    ``st.navigation``. Called first by ``app.py`` and by every page (through ``actor()``),
    before anything is drawn, this switches that mode off for the whole process, as
    ``st.navigation`` does, and reruns the same URL, now through ``app.py``.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.set_option("client.showSidebarNavigation", True)
        st.rerun()


def actor() -> Actor:
    """The signed-in user, as ``app.py`` read them from the database for this run.

    Every page asks first; a page run without a signed-in user draws nothing.
    """
    only_through_app()
    current: Actor | None = st.session_state.get(ACTOR_KEY)
    if current is None:
        st.stop()
    assert current is not None
    return current


def require_manager(action: str) -> Actor:
    """The signed-in manager; anyone else sees why not, and the page stops here.

    Navigation does not offer manager pages to users; this guards the page itself, and
    ``core`` refuses every write anyway.
    """
    current = actor()
    if not current.is_manager:
        st.error(f"Only a manager may {action}. Ask a manager if this needs doing.")
        st.stop()
    return current


def browser_zone() -> str:
    """The browser's time zone (an IANA name), or ``UTC`` when it sends none that is known:
    the zone every time a page shows or reads is in, unless the person picks another."""
    zone = st.context.timezone
    return zone if zone in time_zone_names() else "UTC"


def say_if_unknown_page() -> None:
    """On the default page, say so when the browser asked for a page that does not exist
    (a mistyped or old link): Streamlit's own notice is a dialog that the next rerun closes."""
    url = st.context.url or ""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    path = urlparse(url).path.strip("/")
    path = path.removeprefix(base).strip("/") if base else path
    if path:
        st.warning(
            f"There is no page at /{wording.literal(path)}: this is the Overview. "
            "Pick a page in the sidebar.",
            icon=":material/link_off:",
        )
