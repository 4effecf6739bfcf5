"""Any text and any number through the component services: stored exactly as the rules say,
or refused with a domain error naming the field; never a driver error, on either backend."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.errors import InvalidInput, UnknownComponent
from core.grid.components import (
    create_component,
    delete_component,
    find_component,
    get_component,
    list_components,
    list_substations,
    update_component,
)
from core.models import Component
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.hostile.strategies import (
    HOSTILE_TEXTS,
    expected_text_problem,
    numbers,
    stored_name,
    texts,
)

DB_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _count(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Component)) or 0)


def _fields(**changes):
    return {**TRANSFORMER, **changes}


def _create(db, fields):
    with db.write() as session:
        return create_component(session=session, actor=MANAGER, fields=fields)


def _remove(db, component_id: int) -> None:
    with db.write() as session:
        delete_component(session=session, actor=MANAGER, component_id=component_id)


def _fields_named(error: InvalidInput) -> set[str]:
    return {problem.field for problem in error.problems}


def _assert_found_everywhere(db, record, name: str, substation: str) -> None:
    """The stored text is the normalised input, and get, find, list and search all return it."""
    with db.read() as session:
        got = get_component(session=session, component_id=record.id)
        assert (got.name, got.substation) == (name, substation)
        assert find_component(session=session, name=name, substation=substation).id == record.id
        for search in (name, substation):
            page = list_components(session=session, search=search, limit=500)
            assert record.id in [item.id for item in page.items], search
        assert substation in list_substations(session=session)
        by_substation = list_components(session=session, substations=frozenset({substation}))
        assert record.id in [item.id for item in by_substation.items]


@DB_SETTINGS
@given(name=texts, substation=texts)
@example(name="a\x00b", substation="Riverside")
@example(name="Riverside", substation="a\ud800b")
@example(name="a\u2028b", substation="Riverside")
@example(name="Écluse", substation="Ελλάδα ΣΊΣΥΦΟΣ")
@example(name="<script>alert(1)</script>", substation="=1+2")
def test_any_name_is_stored_exactly_or_refused_naming_the_field(db, name, substation):
    before = _count(db)
    try:
        record = _create(db, _fields(name=name, substation=substation))
    except InvalidInput as error:
        given_texts = {"name": name, "substation": substation}
        refused = {key for key, text in given_texts.items() if expected_text_problem(text)}
        assert _fields_named(error) == refused, error
        assert all(str(problem) for problem in error.problems)
        assert _count(db) == before
        return
    assert not expected_text_problem(name) and not expected_text_problem(substation)
    _assert_found_everywhere(db, record, stored_name(name), stored_name(substation))
    _remove(db, record.id)


@DB_SETTINGS
@given(name=texts)
@example(name="a\x00b")
@example(name="\udfff")
def test_any_name_through_update_is_stored_exactly_or_refused(db, name):
    original = make_component(db, LINE, name="L-update")
    try:
        with db.write() as session:
            update_component(
                session=session,
                actor=MANAGER,
                component_id=original.id,
                fields={**LINE, "name": name},
            )
    except InvalidInput as error:
        assert expected_text_problem(name)
        assert _fields_named(error) == {"name"}
        with db.read() as session:  # nothing changed
            assert get_component(session=session, component_id=original.id).name == "L-update"
    else:
        assert not expected_text_problem(name)
        _assert_found_everywhere(db, original, stored_name(name), LINE["substation"])
    _remove(db, original.id)


def _expected_number(value: object, low: float, high: float) -> float | None:
    """docs/design.md: a finite number from a number or decimal text, within the field's range
    (capacity 0.001-5,000 MVA, voltage level 0.1-1,200 kV)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            return None
        number = float(value.strip())
    else:
        try:
            number = float(value)  # type: ignore[arg-type]
        except OverflowError:
            return None
    return number if math.isfinite(number) and low <= number <= high else None


@DB_SETTINGS
@given(number=numbers)
@example(number=10**400)
@example(number=10**5000)
@example(number="9" * 5000)
@example(number=5e-324)
@example(number=1.7976931348623157e308)
@example(number="٣")
def test_any_number_is_stored_exactly_or_refused_naming_the_field(db, number):
    expected = _expected_number(number, 0.001, 5_000)
    before = _count(db)
    try:
        record = _create(db, _fields(name="T-number", capacity_mva=number))
    except InvalidInput as error:
        assert expected is None, f"{number!r} was refused: {error}"
        assert _fields_named(error) == {"capacity_mva"}
        assert _count(db) == before
        return
    assert expected is not None, f"{number!r} was stored as {record.capacity_mva!r}"
    with db.read() as session:
        stored = get_component(session=session, component_id=record.id).capacity_mva
    assert stored == expected and math.copysign(1, stored) == math.copysign(1, expected)
    _remove(db, record.id)


@DB_SETTINGS
@given(number=numbers)
@example(number=10**400)
def test_any_number_through_update_is_stored_exactly_or_refused(db, number):
    original = make_component(db, LINE, name="L-number")
    expected = _expected_number(number, 0.1, 1_200)
    try:
        with db.write() as session:
            update_component(
                session=session,
                actor=MANAGER,
                component_id=original.id,
                fields={**LINE, "name": "L-number", "voltage_kv": number},
            )
    except InvalidInput as error:
        assert expected is None
        assert _fields_named(error) == {"voltage_kv"}
    else:
        assert expected is not None
        with db.read() as session:
            assert get_component(session=session, component_id=original.id).voltage_kv == expected
    _remove(db, original.id)


@DB_SETTINGS
@given(search=texts | st.text(min_size=600, max_size=20_000).map(lambda t: t * 3))
@example(search="a\x00")
@example(search="\ud800")
@example(search="😀" * 20_000)
def test_searching_and_filtering_with_any_text_never_fails(db, search):
    make_component(db, TRANSFORMER)
    with db.read() as session:
        page = list_components(session=session, search=search)
        assert page.total == len(page.items) <= 1
        assert list_components(session=session, substations=frozenset({search})).total <= 1
        with pytest.raises(UnknownComponent):
            find_component(session=session, name=search + "?", substation=search)
        component_id = int(session.scalar(select(Component.id)))
    _remove(db, component_id)


@pytest.mark.parametrize("text", [t for t in HOSTILE_TEXTS if not expected_text_problem(t)])
def test_a_search_for_any_stored_name_finds_it_in_any_case(db, text):
    """An exact name always finds itself, and its lower- and upper-case forms find it where
    the database folds that case the same way Python does (both do for these letters)."""
    record = make_component(db, TRANSFORMER, name=text)
    with db.read() as session:
        stored = stored_name(text)
        for search in {stored, stored[:3]}:
            found = list_components(session=session, search=search).items
            assert [item.id for item in found] == [record.id], search


@pytest.mark.parametrize("name", ["Écluse", "ÄÖÜ Nord", "Ελλάδα", "Ǆemal"])
def test_search_ignores_the_case_of_letters_beyond_ascii(db, name):
    record = make_component(db, TRANSFORMER, name=name)
    with db.read() as session:
        for search in (name.lower(), name.upper()):
            found = list_components(session=session, search=search).items
            assert [item.id for item in found] == [record.id], search


@pytest.mark.parametrize("component_id", [2**31, -(2**31) - 1, 2**63, 10**30])
def test_an_id_beyond_the_id_column_is_not_found_rather_than_a_database_error(db, component_id):
    with db.read() as session, pytest.raises(UnknownComponent, match=str(component_id)):
        get_component(session=session, component_id=component_id)
    with db.write() as session, pytest.raises(UnknownComponent):
        update_component(
            session=session, actor=MANAGER, component_id=component_id, fields=TRANSFORMER
        )
