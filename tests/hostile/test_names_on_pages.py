"""Hostile names on the Components list and a component's page: markup, Markdown, formulas,
right-to-left text, control characters and 10,000-character names written by something other
than GridBoard. Every page draws without an exception and shows each name as typed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert

from core.domain import ComponentType
from core.models import Component
from tests.factories import LINE, SWITCH, TRANSFORMER, make_component
from tests.pages.conftest import everything, texts
from tests.security.test_xss import DANGEROUS
from tests.security.test_xss import _read as read_markdown
from views.wording import literal

STORABLE = [
    "<script>alert(1)</script>",
    "<b>bold</b> <img src=x onerror=alert(1)>",
    "**bold** _it_ ~~gone~~",
    "[click](javascript:alert(1))",
    "![pixel](http://tracker.example/p.png)",
    "# Heading",
    "- item",
    "1. first",
    "> quoted",
    "$x^2$ and $$y$$",
    ":red[alarm] :smile: :material/delete:",
    "`code` | a | b |",
    '=HYPERLINK("http://x")',
    "שלום עולם",
    "a\\*b",
    "😀" * 200,
    "www.evil.example https://evil.example mallory@evil.example a -> b -- c :streamlit:",
]
# Rows a SQL console or an older tool may have written: no GridBoard form accepts them.
UNCHECKED = [
    "line\nbreak # heading\n- item",
    "tab\there\x07bell",
    "x" * 10_000,
    "שלום \u202eevil\u202c",
]
# Streamlit's own Markdown, which CommonMark does not know: ":red[x]", ":smile:", "$x$".
_STREAMLIT_ACTIVE = re.compile(r"(?<!\\)(?::(?=[^\W\d_])|\$)")


def _shown_as_typed(markdown: str, name: str) -> None:
    """``markdown`` reads as ``name`` once rendered as Streamlit does (line breaks become spaces,
    the name stays inside its sentence), nothing in it becomes a tag, link, image or emphasis,
    and Streamlit's own directives arrive escaped."""
    shown, kinds = read_markdown(markdown)
    assert shown == " ".join(name.splitlines())
    assert not kinds & DANGEROUS, f"{sorted(kinds & DANGEROUS)} rendered from {markdown!r}"
    assert not _STREAMLIT_ACTIVE.search(markdown), markdown


def _add_unchecked(app_db, name: str) -> int:
    with app_db.write() as session:
        return int(
            session.execute(
                insert(Component).returning(Component.id),
                [{**SWITCH, "name": name, "created_by": "sql", "updated_by": "sql"}],
            ).scalar_one()
        )


def test_the_list_shows_every_hostile_name_exactly(open_app, app_db):
    for number, name in enumerate(STORABLE):
        base = (TRANSFORMER, LINE, SWITCH)[number % 3]
        make_component(app_db, base, name=name, substation=STORABLE[-1 - number])
    unchecked = [_add_unchecked(app_db, name) for name in UNCHECKED]
    at = open_app(as_user="ulf", page="pages/components.py")
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["Name"]) == sorted([name.strip() for name in STORABLE] + UNCHECKED)
    assert f"Components: {len(STORABLE) + len(unchecked)}" in everything(at)


@pytest.mark.parametrize("name", STORABLE)
def test_a_component_page_shows_its_hostile_name_as_typed(open_app, app_db, name):
    component = make_component(app_db, LINE, name=name, substation=name)
    for user in ("ulf", "mona"):
        at = open_app(as_user=user, page="pages/component.py", query={"component": component.id})
        assert not at.exception
        [title] = texts(at.title)
        _shown_as_typed(title, name)
        caption = texts(at.caption)[0]
        assert f"**{literal(name)}**" in caption


@pytest.mark.parametrize("name", UNCHECKED)
def test_a_name_written_outside_gridboard_still_draws(open_app, app_db, name):
    component_id = _add_unchecked(app_db, name)
    at = open_app(as_user="mona", page="pages/component.py", query={"component": component_id})
    assert not at.exception
    [title] = texts(at.title)
    _shown_as_typed(title, name)


def test_searching_the_list_for_hostile_text_draws(open_app, app_db):
    make_component(app_db, TRANSFORMER, name="[x](y)")
    at = open_app(as_user="ulf", page="pages/components.py")
    for search in ("[x](y)", "%", "_", "\\", "😀" * 5000, "<script>", "İ"):
        at.text_input(key="components.search").input(search).run()
        assert not at.exception, search
    at.text_input(key="components.search").input("[X](Y)").run()
    assert list(at.dataframe[0].value["Name"]) == ["[x](y)"]


@pytest.mark.parametrize("raw", ["²", "1" * 5000, "99999999999999999999", "-1", "<script>", "0"])
def test_a_link_that_names_no_component_id_says_pick_one(open_app, raw):
    """Not a positive id of at most 18 ASCII digits: no lookup at all."""
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": raw})
    assert not at.exception
    assert texts(at.info) == ["Pick a component on the Components page to see it here."]
    assert texts(at.error) == []


@pytest.mark.parametrize("raw", ["999999999999999999", "0042"])
def test_a_link_to_an_id_with_no_component_says_it_does_not_exist(open_app, raw):
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": raw})
    assert not at.exception
    assert texts(at.error) == [f"Component {int(raw)} does not exist: it may have been deleted."]
    assert "Pick a component" not in everything(at)


def test_a_duplicate_hostile_name_is_refused_with_the_name_as_typed(open_app, app_db):
    make_component(app_db, SWITCH, name="**S1**")
    at = open_app(as_user="mona", page="pages/manage-components.py")
    at.radio[0].set_value(ComponentType.SWITCH).run()
    at.selectbox(key="create.substation.pick").set_value("Riverside").run()
    at.text_input(key="create.name").input("**S1**")
    at.button(key="FormSubmitter:create-component-Create component").click().run()
    assert not at.exception
    [message] = texts(at.error)
    _shown_as_typed(message, "A component named '**S1**' already exists in substation 'Riverside'.")
