"""STYLE.md for the pages: they ask who is signed in first, draw, and call ``core``; no SQL,
no Polars pipelines, no sessions of their own. And the helpers they share."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from views import ui

VIEWS = Path(__file__).resolve().parents[2] / "views"
HELPERS = {"__init__", "ui", "widgets", "sign_in"}
PAGES = sorted(p for p in VIEWS.glob("*.py") if p.stem not in HELPERS)


def _imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_there_is_no_pages_folder_streamlit_would_serve_without_app_py():
    # Streamlit runs pages/*.py on their own (no sign-in) until st.navigation has run once.
    assert not (VIEWS.parent / "pages").exists()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_page_asks_who_is_signed_in_before_anything_else(page):
    tree = ast.parse(page.read_text(encoding="utf-8"))
    first = next(  # the first statement that does something (constants may come before)
        node
        for node in tree.body
        if not isinstance(node, ast.Import | ast.ImportFrom)
        and any(isinstance(inner, ast.Call) for inner in ast.walk(node))
    )
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
    assert ui.box_period(state) == (
        datetime(2024, 5, 1, 18, 30, 0, 500000, tzinfo=UTC),
        datetime(2024, 5, 2, 6, tzinfo=UTC),
    )
    millis = SimpleNamespace(selection=SimpleNamespace(box=[{"x": [1714521600000, 1714525200000]}]))
    assert ui.box_period(millis) == (
        datetime(2024, 5, 1, 0, tzinfo=UTC),
        datetime(2024, 5, 1, 1, tzinfo=UTC),
    )
    assert ui.box_period(SimpleNamespace(selection=SimpleNamespace(box=[]))) is None


def test_periods_read_as_days_in_their_zone():
    zurich_may = (datetime(2024, 4, 30, 22, tzinfo=UTC), datetime(2024, 5, 7, 22, tzinfo=UTC))
    assert ui.period(*zurich_may, "Europe/Zurich") == "2024-05-01 to 2024-05-07 (Europe/Zurich)"
    one_day = (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))
    assert ui.period(*one_day, "UTC") == "2024-05-01 (UTC)"
    odd = (datetime(2024, 5, 1, 6, tzinfo=UTC), datetime(2024, 5, 1, 18, tzinfo=UTC))
    assert ui.period(*odd, "UTC") == "2024-05-01 06:00 to 2024-05-01 18:00 (UTC, end excluded)"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(30, "30 seconds"), (90, "1.5 minutes"), (3600, "1 hour"), (86_400 * 2, "2 days")],
)
def test_durations_read_as_people_say_them(seconds, said):
    assert ui.duration(seconds) == said


def test_sizes():
    assert [ui.size(n) for n in (12, 1536, 2_500_000)] == ["12 bytes", "1.54 kB", "2.5 MB"]
