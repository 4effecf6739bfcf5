"""GridBoard's entry point: page config, sign-in, role-filtered navigation, run.

Pages draw; ``core`` decides. A user sees Components and Reports; a manager also sees the
pages that change things. ``?component=ID`` and ``?report=ID`` open those pages directly.
"""

from typing import Any

import streamlit as st

from core.config import get_settings
from core.errors import GridBoardError
from core.logs import configure_logging
from views import sign_in, ui

st.set_page_config(page_title="GridBoard", page_icon=":material/electric_bolt:", layout="wide")

try:
    configure_logging(get_settings())  # acts once per process; later runs find it done
    actor = sign_in.signed_in_actor()
except GridBoardError as error:  # no database, no cookie key: nothing else can work
    ui.show_error(error)
    st.stop()
if actor is None:
    st.session_state.pop(ui.ACTOR_KEY, None)
else:
    st.session_state[ui.ACTOR_KEY] = actor
    ui.report_runner()  # started once per app process; computes requested reports


def signed_out() -> None:
    """What every page is before sign-in: nothing (the form is drawn above), so a deep link
    keeps its URL until the person has signed in."""


def page(path: str, title: str, icon: str, url_path: str, **options: Any) -> Any:
    return st.Page(
        path if actor else signed_out, title=title, icon=icon, url_path=url_path, **options
    )


pages = {
    "Grid": [
        page("views/components.py", "Components", ":material/account_tree:", "components",
             default=True),
        page("views/component.py", "Component", ":material/electric_meter:", "component",
             visibility="hidden"),
    ],
    "Reports": [
        page("views/reports.py", "Reports", ":material/summarize:", "reports"),
        page("views/report.py", "Report", ":material/table_chart:", "report",
             visibility="hidden"),
    ],
}  # fmt: skip
if actor is None or actor.is_manager:
    pages["Manage"] = [
        page("views/manage_components.py", "Manage components", ":material/build:",
             "manage-components"),
        page("views/measurements.py", "Measurements", ":material/monitoring:", "measurements"),
        page("views/users.py", "Users", ":material/group:", "users"),
    ]  # fmt: skip
current = st.navigation(pages, position="sidebar" if actor else "hidden")
for name in ("component", "report"):  # /?component=ID opens /component?component=ID
    if actor and current.url_path == "" and name in st.query_params and sign_in.cookie_written():
        st.switch_page(f"views/{name}.py", query_params={name: st.query_params[name]})
ui.show_flash()  # what the last action did, when it reran the page
current.run()
