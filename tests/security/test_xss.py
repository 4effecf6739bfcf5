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
import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from core.grid.components import create_component
from core.models import Component, Report, User
from core.reports.jobs import request_report
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.pages.conftest import everything, texts
from tests.security.streamlit_markdown import read
from views.wording import literal

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)>[a](https://evil.example)"
    "![t](https://evil.example/t.png)<https://evil.example> **b** _i_ ~~g~~ `c` &lt; "
    ":red[red] :material/bolt: $x^2$"
)
# Plain text that Streamlit's renderer rewrites after parsing: links, icons, emoji, arrows.
REWRITTEN = (
    "www.evil.example/x http://evil.example mallory@evil.example (www.evil.example) "
    ":streamlit: :smile: :+1: a -> b <- c -- d >= e"
)
HOSTILES = pytest.mark.parametrize("hostile", [HOSTILE, REWRITTEN], ids=["markup", "rewritten"])
# Pages use bold and inline code of their own; these they never do.
DANGEROUS = {
    "html_inline",
    "html_block",
    "link_open",
    "image",
    "s_open",
    "em_open",
    "autolink",
    "material_icon",
    "streamlit_logo",
    "emoji",
    "typography",
    "directive",
    "math",
}


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
    """What a person reads of ``body`` as Streamlit renders it, and the kinds of element."""
    return read(body)


def _assert_inert(at: Any, hostile: str) -> None:
    carrying = [body for body in _bodies(at) if "evil.example" in body]
    assert carrying, "the hostile text is not on the page at all"
    for body in carrying:
        shown, kinds = _read(body)
        assert hostile in shown, f"a person would not read the text as typed: {body!r}"
        assert not kinds & DANGEROUS, f"{sorted(kinds & DANGEROUS)} rendered from {body!r}"


def _component(app_db, **changes):
    with app_db.write() as session:
        return create_component(session=session, actor=MANAGER, fields=TRANSFORMER | changes)


def test_the_checker_catches_markdown_that_is_not_escaped():
    shown, kinds = _read(f"Created {HOSTILE} {REWRITTEN}.")
    assert HOSTILE not in shown and REWRITTEN not in shown
    assert {"html_inline", "link_open", "image", "autolink", "directive", "math"} <= kinds
    assert {"material_icon", "streamlit_logo", "emoji", "typography"} <= kinds


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        # Streamlit rewrites text nodes after escapes are resolved: a backslash stops nothing
        ("www\\.example\\.com", "autolink"),
        ("https\\://evil\\.example", "autolink"),
        ("mallory\\@evil\\.example", "autolink"),
        ("(www.evil.example)", "autolink"),
        ("\\:material/bolt:", "material_icon"),
        ("\\:streamlit:", "streamlit_logo"),
        ("\\:smile:", "emoji"),
        ("\\:1st_place_medal:", "emoji"),
        ("a \\<- b", "typography"),
    ],
)
def test_the_checker_knows_that_escapes_do_not_stop_streamlits_text_rewrites(body, kind):
    assert kind in _read(body)[1]


@pytest.mark.parametrize(
    "text",
    [
        "www.example.com",
        "https://evil.example/path?q=1",
        "HTTP://EVIL.EXAMPLE",
        "mallory@evil.example",
        "mailto:mallory@evil.example",
        "a.b-c+d@mail.evil.example",
        ":material/bolt: :streamlit: :smile: :+1: :100: :1st_place_medal: :8ball:",
        "a -> b <- c <-> d -- e >= f <= g ~= h",
        "-- at the start and at the end --",
    ],
)
def test_literal_leaves_nothing_for_streamlit_to_rewrite(text):
    shown, kinds = _read(f"Created {literal(text)}.")
    assert shown == f"Created {text}."
    assert kinds <= {"paragraph_open", "inline", "text", "paragraph_close"}


@HOSTILES
def test_a_component_page_shows_a_hostile_name_and_substation_as_text(open_app, app_db, hostile):
    component = _component(app_db, name=hostile, substation=f"S {hostile}")
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": component.id})
    _assert_inert(at, hostile)
    shown, _ = _read(texts(at.title)[0])
    assert shown == hostile


@HOSTILES
def test_editing_and_deleting_a_hostile_component_show_its_name_as_text(open_app, app_db, hostile):
    component = _component(app_db, name=hostile)
    at = open_app(
        as_user="mona", page="pages/manage-components.py", query={"component": component.id}
    )
    assert any(hostile in _read(s)[0] for s in texts(at.subheader))
    _assert_inert(at, hostile)


@HOSTILES
def test_creating_a_hostile_component_and_its_duplicate_show_the_name_as_text(
    open_app, app_db, hostile
):
    at = open_app(as_user="mona", page="pages/manage-components.py")
    for _ in range(2):  # the second time, the duplicate's error names it
        fields = {field.label: field for field in [*at.text_input, *at.number_input]}
        fields["Name"].input(hostile)
        fields["Substation: new name"].input("Hilltop")  # none stored yet: "New substation…"
        fields["Capacity (MVA)"].set_value(40.0)
        fields["HV voltage (kV)"].set_value(110.0)
        at.button(key="FormSubmitter:create-component-Create component").click().run()
        _assert_inert(at, hostile)
    assert "already exists" in everything(at)


@HOSTILES
def test_an_uploaded_file_name_is_shown_as_text(open_app, hostile):
    at = open_app(as_user="mona", page="pages/manage-components.py")
    at.button_group[0].set_value("Import CSV").run()
    name = f"{hostile}.csv"
    at.file_uploader[0].upload(name, b"\x00\x01binary", "text/csv").run()
    _assert_inert(at, name)
    assert any(name in _read(message)[0] for message in texts(at.error))


@HOSTILES
def test_a_report_error_is_shown_as_text(open_app, app_db, hostile):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with app_db.write() as session:
        record = request_report(
            session=session, actor=MANAGER, start=start, end=start + timedelta(days=1)
        )
        session.execute(update(Report).values(status="failed", error=hostile))
    at = open_app(as_user="ulf", page="pages/report.py", query={"report": record.id})
    _assert_inert(at, hostile)
    assert texts(at.error)


@HOSTILES
def test_a_hostile_display_name_is_shown_as_text_in_the_sidebar(open_app, app_db, hostile):
    with app_db.write() as session:
        session.execute(update(User).where(User.username == "ulf").values(display_name=hostile))
    at = open_app(as_user="ulf")
    at.session_state["name"] = hostile  # as streamlit-authenticator sets it from the users
    at.run()
    _assert_inert(at, hostile)


# Usernames are letters, digits, '.', '_' and '-': "www.evil.example" is one.
USERNAME = "www.evil.example"


def test_who_requested_a_report_is_shown_as_text(open_app, app_db):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with app_db.write() as session:
        record = request_report(
            session=session, actor=MANAGER, start=start, end=start + timedelta(days=1)
        )
        session.execute(update(Report).values(requested_by=USERNAME))
    at = open_app(as_user="ulf", page="pages/report.py", query={"report": record.id})
    _assert_inert(at, USERNAME)
    assert any(f"requested by {USERNAME}" in _read(caption)[0] for caption in texts(at.caption))


def test_who_last_changed_a_component_is_shown_as_text(open_app, app_db):
    component = _component(app_db, name="T7")
    with app_db.write() as session:
        session.execute(update(Component).values(updated_by=USERNAME))
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": component.id})
    _assert_inert(at, USERNAME)


# --- the code itself ----------------------------------------------------------------------

UNSAFE = re.compile(r"unsafe_allow_html|st\.html\(|components\.v1|components\.html|st\.iframe")
# The one exception: the Substation page's diagram, core.diagram's own SVG (tested below).
DIAGRAM_VIEW = ROOT / "views" / "diagram.py"


@pytest.mark.parametrize(
    "path",
    sorted([ROOT / "app.py", *(ROOT / "views").glob("*.py"), *(ROOT / "pages").glob("*.py")]),
)
def test_no_page_renders_raw_html(path):
    found = UNSAFE.findall(path.read_text(encoding="utf-8"))
    assert found == (["st.html("] if path == DIAGRAM_VIEW else []), path.name


@HOSTILES
def test_the_substation_diagram_holds_nothing_gridboard_did_not_write(open_app, app_db, hostile):
    """The page's only HTML is the diagram: an <img> of core.diagram's SVG (every element and
    attribute one it writes, hostile names as text) and an image map whose links stay inside
    the app and whose texts are escaped; no other tag or attribute."""
    from html.parser import HTMLParser

    from tests.test_diagram import _parse, _texts, assert_only_what_gridboard_writes

    make_component(app_db, TRANSFORMER, name=hostile, substation=hostile)
    make_component(
        app_db, LINE, name=f"{hostile}L", substation=hostile, to_substation=f"{hostile}2"
    )
    at = open_app(as_user="ulf", page="pages/substation.py", query={"name": hostile})
    (diagram,) = at.get("html")
    tags: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, dict(attrs)))

    Collect().feed(diagram.proto.body)
    assert {tag for tag, _ in tags} == {"div", "img", "map", "area"}
    allowed = {"class", "style", "src", "usemap", "alt", "name", "shape", "coords", "href", "title"}
    assert {name for _, attrs in tags for name in attrs} <= allowed
    areas = [attrs for tag, attrs in tags if tag == "area"]
    assert all(
        str(a["href"]).startswith(("component?component=", "substation?name=")) for a in areas
    )
    assert f"{hostile}L" in {a["title"] for a in areas}  # read back unescaped: it was text
    (image,) = [attrs for tag, attrs in tags if tag == "img"]
    prefix = "data:image/svg+xml;base64,"
    assert str(image["src"]).startswith(prefix)
    root = _parse(base64.b64decode(str(image["src"]).removeprefix(prefix)).decode())
    assert_only_what_gridboard_writes(root)
    shown = "".join(_texts(root)) + "".join(t.text or "" for t in root.iter("{*}title"))
    assert hostile[:10] in shown


# Fields that hold what people typed or uploaded; numbers, dates, enums and ids are safe.
USER_TEXT = {
    "name",
    "substation",
    "display_name",
    "username",
    "email",
    "error",
    "updated_by",
    "requested_by",
    "reason",
}


@pytest.mark.parametrize(
    "path", sorted([*(ROOT / "views").glob("*.py"), *(ROOT / "pages").glob("*.py")])
)
def test_user_text_in_markdown_goes_through_ui_literal(path):
    """A static backstop for the tests above: an f-string that puts a user-typed field into
    the page passes it through ``wording.literal`` (or ``literal`` inside ``views/wording.py``)."""
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
        for index, part in enumerate(node.values):
            if not isinstance(part, ast.FormattedValue):
                continue
            if _username_in_code_span(node.values, index):
                continue
            call = part.value
            escaped = isinstance(call, ast.Call) and (
                (isinstance(call.func, ast.Attribute) and call.func.attr == "literal")
                or (isinstance(call.func, ast.Name) and call.func.id == "literal")
                # the diagram's HTML (not Markdown) is escaped as HTML
                or (path == DIAGRAM_VIEW and ast.unparse(call.func) == "html.escape")
            )
            fields = {n.attr for n in ast.walk(call) if isinstance(n, ast.Attribute)}
            if fields & USER_TEXT and not escaped:
                unescaped.append(f"line {part.lineno}: {ast.unparse(call)}")
    assert not unescaped, f"{path.name} shows user text unescaped: {unescaped}"


def _username_in_code_span(parts: list[ast.expr], index: int) -> bool:
    """A username between backticks is a code span, which Markdown shows as typed and no
    rewrite touches; a username cannot hold a backtick to end it (the username rule)."""
    before, value = parts[index - 1] if index else None, parts[index]
    after = parts[index + 1] if index + 1 < len(parts) else None
    assert isinstance(value, ast.FormattedValue)
    return (
        isinstance(value.value, ast.Attribute)
        and value.value.attr == "username"
        and isinstance(before, ast.Constant)
        and str(before.value).endswith("`")
        and isinstance(after, ast.Constant)
        and str(after.value).startswith("`")
    )


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
