"""GridBoard's entry point: page config, sign-in, role-filtered navigation, run. Everyone starts
on the Overview; ``?component=ID`` (``&alarm=ID``) and ``?report=ID`` open those pages.
See docs/design.md#roles."""

from pathlib import Path
from typing import Any

import streamlit as st

from core.config import get_settings
from core.errors import GridBoardError
from core.logs import configure_logging
from views import alarm_sections, messages, resources, sign_in, ui

ui.only_through_app()  # never Streamlit's old pages/ mode: see the function
# The icon is a file Streamlit serves itself: an emoji or :material: icon is fetched from a
# font host, which a control room's offline browser cannot reach.
ICON = Path(__file__).parent / "views" / "static" / "gridboard-icon.png"
st.set_page_config(page_title="GridBoard", page_icon=str(ICON), layout="wide")

try:
    configure_logging(get_settings())  # acts once per process; later runs find it done
    actor = sign_in.signed_in_actor()
except GridBoardError as error:  # no database, no cookie key: nothing else can work
    messages.show_error(error)
    st.stop()
if actor is None:
    st.session_state.pop(ui.ACTOR_KEY, None)
else:
    st.session_state[ui.ACTOR_KEY] = actor
    resources.report_runner()  # once per app process, unless GRIDBOARD_APP_RUNS_REPORTS is false
    resources.settle_heap()  # once per app process: see the function


def signed_out() -> None:
    """What every page is before sign-in: nothing (the form is drawn above), so a deep link
    keeps its URL until the person has signed in."""


def page(name: str, title: str, icon: str, **options: Any) -> Any:
    """The page ``pages/<name>.py`` at the URL ``/<name>``: the file name is the URL, so the
    first request to a fresh server, which Streamlit resolves against the ``pages/`` folder
    (see ``ui.only_through_app``), finds the same page that ``st.navigation`` serves."""
    return st.Page(
        f"pages/{name}.py" if actor else signed_out,
        title=title,
        icon=icon,
        url_path=name,
        **options,
    )


def at_root(name: str, title: str, icon: str) -> Any:
    """The default page, served at ``/``. Streamlit serves a default page only at the root,
    so the same file is also a hidden ``page(name)``: a typed ``/<name>`` finds it too."""
    return st.Page(
        f"pages/{name}.py" if actor else signed_out,
        title=title,
        icon=icon,
        url_path=f"{name}-at-root",  # never shown: the default page's URL is "/"
        default=True,
    )


pages = {
    "Grid": [
        at_root("overview", "Overview", ":material/dashboard:"),
        page("overview", "Overview", ":material/dashboard:", visibility="hidden"),
        page("network", "Network", ":material/hub:"),
        page("substation", "Substation", ":material/location_on:", visibility="hidden"),
        page("components", "Components", ":material/account_tree:"),
        page("component", "Component", ":material/electric_meter:", visibility="hidden"),
        page("alarms", "Alarms", ":material/notifications:"),
    ],
    "Reports": [
        page("reports", "Reports", ":material/summarize:"),
        page("report", "Report", ":material/table_chart:", visibility="hidden"),
    ],
}
# A user who types a manager page's URL sees why it is not theirs (the page says so) rather
# than "Page not found"; their sidebar lists neither these pages nor their section.
manages = actor is None or actor.is_manager
shown = "visible" if manages else "hidden"
pages.setdefault("Manage" if manages else "Grid", []).extend(
    [
        page("manage-components", "Manage components", ":material/build:", visibility=shown),
        page("measurements", "Measurements", ":material/monitoring:", visibility=shown),
        page("users", "Users", ":material/group:", visibility=shown),
        page("audit-log", "Audit log", ":material/history:", visibility=shown),
    ]
)
current = st.navigation(pages, position="sidebar" if actor else "hidden")
if actor:
    alarm_sections.sidebar(pages)  # linked to the Alarms page when there is one
# /?component=ID opens /component?component=ID (with its &alarm=ID, if any)
for name, kept in (("component", ("component", "alarm")), ("report", ("report",))):
    if actor and current.url_path == "" and name in st.query_params and sign_in.cookie_written():
        query = {key: st.query_params[key] for key in kept if key in st.query_params}
        st.switch_page(f"pages/{name}.py", query_params=query)
messages.show_flash()  # what the last action did, when it reran the page
if actor and current.url_path == "":  # the default page: asked for, or instead of an unknown one
    ui.say_if_unknown_page()
current.run()
