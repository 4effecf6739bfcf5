"""The rule for pages (docs/architecture.md): they ask who is signed in first, draw, and
call ``core``; no SQL, no Polars pipelines, no sessions of their own. And their helpers."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from views import selection, wording

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
PAGES = sorted((ROOT / "pages").glob("*.py"))


def _imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _first_call(tree: ast.Module) -> ast.stmt:
    """The first statement that does something (imports and constants may come before)."""
    return next(
        node
        for node in tree.body
        # Imports run no page code, and defining a function calls nothing yet.
        if not isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef)
        and any(isinstance(inner, ast.Call) for inner in ast.walk(node))
    )


def test_app_py_leaves_streamlits_pages_folder_mode_before_drawing_anything():
    first = _first_call(ast.parse(APP.read_text(encoding="utf-8")))
    assert ast.unparse(first) == "ui.only_through_app()"


def test_the_navigation_serves_exactly_the_files_in_pages_each_at_its_file_name():
    # The first request to a fresh server is resolved against pages/ by file name: a URL
    # app.py serves under another name would be "page not found" there, and a file app.py
    # does not serve would be listed.
    calls = [
        node
        for node in ast.walk(ast.parse(APP.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "page"
    ]
    served = {ast.literal_eval(call.args[0]) for call in calls}
    assert served == {p.stem for p in PAGES}
    assert {"manage-components", "users", "components"} <= served


def test_streamlit_still_decides_the_pages_folder_mode_as_only_through_app_expects(monkeypatch):
    # only_through_app relies on this class attribute (Streamlit 1.67): set at the first
    # session from whether pages/ exists, honoured by every run until st.navigation clears it.
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    PagesManager(str(APP))
    assert PagesManager.uses_pages_directory is True


@pytest.mark.parametrize("page", ["users", "manage-components", "components"])
def test_a_deep_link_as_a_fresh_servers_first_request_is_served_through_app_py(
    app_db, monkeypatch, page
):
    # AppTest's first run is a new server's first request: Streamlit starts it in its old
    # pages/ mode, which would run pages/<page>.py alone; only_through_app leaves that mode
    # and the run ends at app.py's sign-in form.
    old_mode_runs = []
    pages_mode = script_runner._mpa_v1
    monkeypatch.setattr(script_runner, "_mpa_v1", lambda path: [
        old_mode_runs.append(path), pages_mode(path)])  # fmt: skip
    at = AppTest.from_file(str(APP), default_timeout=30).switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    assert len(old_mode_runs) == 1
    assert PagesManager.uses_pages_directory is False
    assert [button.label for button in at.button] == ["Sign in"]
    assert [title.value for title in at.title] == ["GridBoard"]  # no page drawn
    at.run()
    assert len(old_mode_runs) == 1  # later requests never go there again


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_page_asks_who_is_signed_in_before_anything_else(page):
    # ui.actor() also leaves Streamlit's pages/ mode first (ui.only_through_app).
    first = _first_call(ast.parse(page.read_text(encoding="utf-8")))
    assert isinstance(first, ast.Assign), f"{page.name} must start with actor = ui.actor()"
    assert ast.unparse(first.value).startswith(("ui.actor()", "ui.require_manager("))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_page_has_no_sql_and_no_pipelines(page):
    source = page.read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert not any(name.startswith("sqlalchemy") for name in _imports(tree))
    calls = {
        ast.unparse(node.func).split(".")[-1]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert not calls & {"lazy", "group_by", "agg", "join", "execute", "commit", "begin"}
    assert len(source.splitlines()) <= 160, f"{page.name} is getting long: move logic to core"


def test_box_period_reads_a_box_drawn_on_a_time_axis():
    state = SimpleNamespace(
        selection=SimpleNamespace(box=[{"x": ["2024-05-02 06:00:00", "2024-05-01 18:30:00.5"]}])
    )
    assert selection.box_period(state) == (
        datetime(2024, 5, 1, 18, 30, 0, 500000, tzinfo=UTC),
        datetime(2024, 5, 2, 6, tzinfo=UTC),
    )
    millis = SimpleNamespace(selection=SimpleNamespace(box=[{"x": [1714521600000, 1714525200000]}]))
    assert selection.box_period(millis) == (
        datetime(2024, 5, 1, 0, tzinfo=UTC),
        datetime(2024, 5, 1, 1, tzinfo=UTC),
    )
    assert selection.box_period(SimpleNamespace(selection=SimpleNamespace(box=[]))) is None


def test_periods_read_as_days_in_their_zone():
    zurich_may = (datetime(2024, 4, 30, 22, tzinfo=UTC), datetime(2024, 5, 7, 22, tzinfo=UTC))
    assert (
        wording.period(*zurich_may, "Europe/Zurich") == "2024-05-01 to 2024-05-07 (Europe/Zurich)"
    )
    one_day = (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))
    assert wording.period(*one_day, "UTC") == "2024-05-01 (UTC)"
    odd = (datetime(2024, 5, 1, 6, tzinfo=UTC), datetime(2024, 5, 1, 18, tzinfo=UTC))
    assert wording.period(*odd, "UTC") == "2024-05-01 06:00 to 2024-05-01 18:00 (UTC, end excluded)"
