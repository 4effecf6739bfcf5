"""Text people type or upload (component names, substations, display names, file names, report
errors) is shown as exactly those characters: never as HTML, a link, an image, emphasis or a
Streamlit directive.

Streamlit renders titles, captions, messages and widget labels as Markdown. Each test puts a
hostile text where a page shows it, then renders what the page sent as CommonMark
(markdown-it-py, raw HTML allowed as a browser's Markdown would see it) and checks that a
person reads the text character for character, and that nothing became a tag or a link.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import update

from core.components import create_component
from core.models import Report, User
from core.reports.jobs import request_report
from tests.factories import MANAGER, TRANSFORMER
from tests.pages.conftest import everything, texts
from views.ui import literal

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)>[a](https://evil.example)"
    "![t](https://evil.example/t.png)<https://evil.example> **b** _i_ ~~g~~ `c` &lt; "
    ":red[red] :material/bolt: $x^2$"
)
# Streamlit's own syntax, which CommonMark does not know: it must arrive escaped.
STREAMLIT_ESCAPED = ("\\:red\\[red\\]", "\\:material/bolt:", "\\$x^2\\$")
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])
# Pages use bold and inline code of their own; these they never do.
DANGEROUS = {"html_inline", "html_block", "link_open", "image", "s_open", "em_open"}


def _bodies(at: Any) -> list[str]:
    """Everything the page sent that the browser renders as Markdown."""
    bodies = [
        *texts(at.title),
        *texts(at.subheader),
        *texts(at.markdown),
        *texts(at.caption),
        *texts(at.info),
        *texts(at.success),
        *texts(at.warning),
        *texts(at.error),
    ]
    labels = [*at.button, *at.checkbox, *at.get("page_link"), *at.text_input]
    bodies += [str(getattr(element, "label", "") or element.proto.label) for element in labels]
    return bodies


def _read(body: str) -> tuple[str, set[str]]:
    """What a person reads of ``body``, and the kinds of element it renders to."""
    shown, kinds = [], set()
    for token in MARKDOWN.parse(body):
        kinds.add(token.type)
        for child in token.children or []:
            kinds.add(child.type)
            if child.type in ("text", "code_inline"):
                shown.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                shown.append("\n")
    return "".join(shown), kinds


def _assert_inert(at: Any, hostile: str = HOSTILE) -> None:
    carrying = [body for body in _bodies(at) if "evil.example" in body]
    assert carrying, "the hostile text is not on the page at all"
    for body in carrying:
        shown, kinds = _read(body)
        assert hostile in shown, f"a person would not read the text as typed: {body!r}"
        assert not kinds & DANGEROUS, f"{sorted(kinds & DANGEROUS)} rendered from {body!r}"
        for escaped in STREAMLIT_ESCAPED:
            assert escaped in body, f"Streamlit would render {escaped!r} in {body!r}"


def _component(app_db, **changes):
    with app_db.write() as session:
        return create_component(session=session, actor=MANAGER, fields=TRANSFORMER | changes)


def test_the_checker_catches_markdown_that_is_not_escaped():
    shown, kinds = _read(f"Created {HOSTILE}.")
    assert HOSTILE not in shown
    assert {"html_inline", "link_open", "image"} <= kinds


def test_a_component_page_shows_a_hostile_name_and_substation_as_text(open_app, app_db):
    component = _component(app_db, name=HOSTILE, substation=f"S {HOSTILE}")
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": component.id})
    _assert_inert(at)
    shown, _ = _read(texts(at.title)[0])
    assert shown == HOSTILE


def test_editing_and_deleting_a_hostile_component_show_its_name_as_text(open_app, app_db):
    component = _component(app_db, name=HOSTILE)
    at = open_app(
        as_user="mona", page="pages/manage-components.py", query={"component": component.id}
    )
    assert any(HOSTILE in _read(s)[0] for s in texts(at.subheader))
    _assert_inert(at)


def test_creating_a_hostile_component_and_its_duplicate_show_the_name_as_text(open_app, app_db):
    at = open_app(as_user="mona", page="pages/manage-components.py")
    for _ in range(2):  # the second time, the duplicate's error names it
        fields = {field.label: field for field in [*at.text_input, *at.number_input]}
        fields["Name"].input(HOSTILE)
        fields["Substation"].input("Hilltop")
        fields["Capacity (MVA)"].set_value(40.0)
        fields["HV voltage (kV)"].set_value(110.0)
        at.button(key="FormSubmitter:create-component-Create component").click().run()
        _assert_inert(at)
    assert "already exists" in everything(at)


def test_an_uploaded_file_name_is_shown_as_text(open_app):
    at = open_app(as_user="mona", page="pages/manage-components.py")
    at.button_group[0].set_value("Import CSV").run()
    name = f"{HOSTILE}.csv"
    at.file_uploader[0].upload(name, b"\x00\x01binary", "text/csv").run()
    _assert_inert(at, name)
    assert any(name in _read(message)[0] for message in texts(at.error))


def test_a_report_error_is_shown_as_text(open_app, app_db):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with app_db.write() as session:
        record = request_report(
            session=session, actor=MANAGER, start=start, end=start + timedelta(days=1)
        )
        session.execute(update(Report).values(status="failed", error=HOSTILE))
    at = open_app(as_user="ulf", page="pages/report.py", query={"report": record.id})
    _assert_inert(at)
    assert texts(at.error)


def test_a_hostile_display_name_is_shown_as_text_in_the_sidebar(open_app, app_db):
    with app_db.write() as session:
        session.execute(update(User).where(User.username == "ulf").values(display_name=HOSTILE))
    at = open_app(as_user="ulf")
    at.session_state["name"] = HOSTILE  # as streamlit-authenticator sets it from the users
    at.run()
    _assert_inert(at)


# --- the code itself ----------------------------------------------------------------------

UNSAFE = re.compile(r"unsafe_allow_html|st\.html\(|components\.v1|components\.html|st\.iframe")


@pytest.mark.parametrize(
    "path",
    sorted([ROOT / "app.py", *(ROOT / "views").glob("*.py"), *(ROOT / "pages").glob("*.py")]),
)
def test_no_page_renders_raw_html(path):
    assert not UNSAFE.findall(path.read_text(encoding="utf-8")), path.name


# Fields that hold what people typed or uploaded; numbers, dates, enums and ids are safe.
USER_TEXT = {"name", "substation", "display_name", "error", "updated_by", "reason"}


@pytest.mark.parametrize(
    "path", sorted([*(ROOT / "views").glob("*.py"), *(ROOT / "pages").glob("*.py")])
)
def test_user_text_in_markdown_goes_through_ui_literal(path):
    """A static backstop for the tests above: an f-string that puts a user-typed field into
    the page passes it through ``ui.literal`` (or ``literal`` inside ``views/ui.py``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Widget keys and select options (format_func) are not rendered as Markdown.
    plain = {
        id(inner)
        for keyword in ast.walk(tree)
        if isinstance(keyword, ast.keyword) and keyword.arg in ("key", "format_func")
        for inner in ast.walk(keyword.value)
    }
    unescaped = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr) or id(node) in plain:
            continue
        for part in node.values:
            if not isinstance(part, ast.FormattedValue):
                continue
            call = part.value
            escaped = isinstance(call, ast.Call) and (
                (isinstance(call.func, ast.Attribute) and call.func.attr == "literal")
                or (isinstance(call.func, ast.Name) and call.func.id == "literal")
            )
            fields = {n.attr for n in ast.walk(call) if isinstance(n, ast.Attribute)}
            if fields & USER_TEXT and not escaped:
                unescaped.append(f"line {part.lineno}: {ast.unparse(call)}")
    assert not unescaped, f"{path.name} shows user text unescaped: {unescaped}"


@pytest.mark.parametrize(
    "text",
    ["- a list?", "1. a list?", "# a heading?", "= underline", "> quote", "a\n# b", HOSTILE],
)
def test_literal_keeps_every_character_and_adds_no_structure(text):
    shown, kinds = _read(literal(text))
    assert shown == " ".join(text.splitlines())
    assert kinds <= {"paragraph_open", "inline", "text", "paragraph_close"}


@pytest.mark.parametrize("text", ["T-12", "grid.csv", "at 13:45: ok", "SETTING_NAME", "a_b"])
def test_literal_leaves_ordinary_text_as_it_is(text):
    assert literal(text) == text
