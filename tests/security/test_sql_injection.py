"""Every text that reaches SQL is a bound parameter, and a search is plain text: ``%``, ``_``
and ``\\`` are not wildcards. On SQLite and PostgreSQL alike, a hostile search finds exactly
the components whose name or substation contains it, and every table is intact afterwards.

The text filters are: the components search (Components page, component pickers), the
substation filter, a component by name and substation (imports, the CLI), and a username
(sign-in, users).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.access.auth import sign_in
from core.access.users import create_user, get_user
from core.errors import AuthenticationFailure, UnknownComponent, UnknownUser
from core.grid.components import find_component, list_components
from core.models import Component, User
from tests.factories import MANAGER, SWITCH, make_component

PAYLOADS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE components; --',
    "'); DELETE FROM users; --",
    "%",
    "_",
    "\\",
    "%_%",
    "100%",
    "a_b",
    "\\%",
    "[a-z]",
    "*",
    "'",
    '"',
    ";",
]
NAMES = [
    "Plain",
    "AxB",
    "A_B",
    "100%",
    "1000",
    "back\\slash",
    "O'Brien",
    'say "hi"',
    '"; DROP TABLE components; --',
    "semi;colon",
    "[a-z] bracket",
    "star*",
]


@pytest.fixture
def grid(db):
    for index, name in enumerate(NAMES):
        make_component(db, SWITCH, name=name, substation="Hill%" if index % 2 else "Vale_1")
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="carla", password="correct-horse-42")
    return db


def _expected(search: str) -> list[str]:
    needle = search.strip().lower()
    if not needle:
        return sorted(NAMES)
    return sorted(
        name
        for index, name in enumerate(NAMES)
        if needle in name.lower() or needle in ("hill%" if index % 2 else "vale_1")
    )


def _found(db, search: str) -> list[str]:
    with db.read() as session:
        page = list_components(session=session, search=search, limit=100)
    assert page.total == len(page.items)
    return sorted(c.name for c in page.items)


def _intact(db) -> None:
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Component)) == len(NAMES)
        assert session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("search", PAYLOADS)
def test_a_hostile_search_finds_exactly_the_literal_matches(grid, search):
    assert _found(grid, search) == _expected(search)
    _intact(grid)


def test_wildcards_are_plain_text(grid):
    assert _found(grid, "100%") == ["100%"]  # not "1000"
    assert _found(grid, "a_b") == ["A_B"]  # not "AxB"
    assert _found(grid, "k\\s") == ["back\\slash"]
    assert _found(grid, "%") == sorted(n for i, n in enumerate(NAMES) if "%" in n or i % 2)
    assert _found(grid, "[a-z]") == ["[a-z] bracket"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(search=st.text(alphabet="%_\\'\";-*[]aAbB10 ", max_size=6))
def test_any_search_finds_exactly_the_literal_matches(grid, search):
    assert _found(grid, search) == _expected(search)


@pytest.mark.parametrize("text", PAYLOADS)
def test_the_substation_filter_and_lookups_by_name_are_literal(grid, text):
    with grid.read() as session:
        assert list_components(session=session, substations=frozenset({text})).total == 0
        with pytest.raises(UnknownComponent):
            find_component(session=session, name=text, substation="Nowhere")
        with pytest.raises(UnknownUser):
            get_user(session=session, username=text)
    with pytest.raises(AuthenticationFailure):
        sign_in(grid, username=text, password="' OR 1=1 --", sleep=lambda _seconds: None)
    _intact(grid)


def test_a_hostile_name_is_found_exactly_by_itself(grid):
    hostile = '"; DROP TABLE components; --'
    with grid.read() as session:
        found = find_component(session=session, name=hostile, substation="Vale_1")
        assert found.name == hostile
        assert list_components(session=session, substations=frozenset({"Hill%"})).total == 6
    _intact(grid)
