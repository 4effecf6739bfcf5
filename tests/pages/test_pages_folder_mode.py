"""The one Streamlit internal GridBoard leans on: how a ``pages/`` folder beside the entry point
switches Streamlit's old pages-directory mode on, and how ``st.navigation`` switches it off.
``views.ui.only_through_app`` does what ``st.navigation`` does (docs/architecture.md, Pages in
``pages/``, safely); these tests fail, saying what to look at, on the Streamlit that changes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

UPGRADE = (
    f"Streamlit {streamlit.__version__} changed how a pages/ folder is handled: "
    "views.ui.only_through_app switches off the old pages-directory mode through "
    "PagesManager.uses_pages_directory, as st.navigation did. Find the new switch, change "
    "only_through_app, and run tests/e2e/test_fresh_server.py (a fresh server's first "
    "request must go through app.py's sign-in)."
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An entry point's folder with a ``pages/`` folder beside it, as GridBoard's."""
    (tmp_path / "pages").mkdir()
    return tmp_path


@pytest.fixture(autouse=True)
def _mode_restored():
    """The flag is process-wide: leave it as the next test expects to find it."""
    before = PagesManager.uses_pages_directory
    yield
    PagesManager.uses_pages_directory = before


def _run(folder: Path, script: str) -> AppTest:
    entry = folder / "entry.py"
    entry.write_text(script, encoding="utf-8")
    return AppTest.from_file(str(entry), default_timeout=30).run()


def test_a_pages_folder_turns_the_old_mode_on_until_navigation_runs(folder):
    at = _run(folder, "import streamlit as st\nst.write('drawn')\n")
    assert not at.exception
    assert PagesManager.uses_pages_directory is True, UPGRADE


def test_navigation_turns_the_old_mode_off_through_the_flag_only_through_app_sets(folder):
    at = _run(
        folder,
        "import streamlit as st\n"
        "st.navigation([st.Page(lambda: st.write('page'), title='Only')]).run()\n",
    )
    assert not at.exception
    assert PagesManager.uses_pages_directory is False, UPGRADE


def test_only_through_app_turns_the_old_mode_off_and_runs_the_script_again(folder):
    at = _run(
        folder,
        "import streamlit as st\n"
        "from views import ui\n"
        "st.session_state['runs'] = st.session_state.get('runs', 0) + 1\n"
        "ui.only_through_app()\n"
        "st.write('through app')\n",
    )
    assert not at.exception, UPGRADE
    assert PagesManager.uses_pages_directory is False, UPGRADE
    assert at.session_state["runs"] == 2, UPGRADE  # the rerun, now outside the old mode
    assert [text.value for text in at.markdown] == ["through app"]
