"""Names that look the same cannot both exist: a component in its substation, a substation
(a line's other end included), an API token; through core and a CSV import, on SQLite and
PostgreSQL (over HTTP: tests/api/test_look_alike_names.py). Usernames are plain ASCII."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.access.api_tokens import create_api_token
from core.access.users import create_user
from core.errors import DuplicateComponent, InvalidInput
from core.grid.components import find_component
from core.import_errors import ImportRejection
from core.imports import import_components
from core.models import Component
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.imports.support import run_measurements

# Each reads "T1" on screen.
INVISIBLE = {
    "zero-width space": "T\u200b1",
    "word joiner": "T\u20601",
    "bidi isolate around it": "\u2066T1\u2069",
    "right-to-left override": "\u202eT1",
    "left-to-right mark": "T1\u200e",
    "soft hyphen": "T\u00ad1",
    "variation selector": "T\ufe0f1",
    "Hangul filler": "T\u31641",
}
LOOK_ALIKE = {
    "Greek capital tau": "\u03a41",
    "Cyrillic capital te": "\u04221",
}
EQUIVALENT = {  # NFKC turns each into plain T1
    "full-width letters": "\uff34\uff11",
    "no-break space inside": "T1\u00a0",
}


def _names(db) -> list[tuple[str, str]]:
    with db.read() as session:
        return [tuple(row) for row in session.execute(select(Component.name, Component.substation))]


@pytest.mark.parametrize("name", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_an_invisible_or_bidi_character_in_a_name_is_refused_naming_it(db, name):
    for field in ("name", "substation"):
        with pytest.raises(InvalidInput) as refused:
            make_component(db, **{field: name})
        (problem,) = refused.value.problems
        assert problem.field == field and "invisible or text-direction" in problem.reason
        assert "U+" in problem.reason
    assert _names(db) == []


@pytest.mark.parametrize("name", [*LOOK_ALIKE.values(), *EQUIVALENT.values()])
def test_a_name_that_looks_like_one_in_the_substation_is_a_duplicate(db, name):
    make_component(db)
    with pytest.raises(DuplicateComponent, match="'T1' already exists in substation 'Riverside'"):
        make_component(db, name=name)
    assert _names(db) == [("T1", "Riverside")]


def test_an_edit_cannot_rename_a_component_into_a_look_alike(db):
    make_component(db)
    other = make_component(db, name="T2")
    from core.grid.components import update_component

    with db.write() as session, pytest.raises(DuplicateComponent):
        update_component(
            session=session,
            actor=MANAGER,
            component_id=other.id,
            fields={**TRANSFORMER, "name": "\u03a41"},
        )
    assert sorted(_names(db)) == [("T1", "Riverside"), ("T2", "Riverside")]


def test_a_substation_spelt_with_look_alikes_is_refused_naming_the_stored_one(db):
    make_component(db)
    cyrillic = "Riv\u0435rside"  # Cyrillic ie
    with pytest.raises(InvalidInput, match="use 'Riverside'"):
        make_component(db, name="T2", substation=cyrillic)
    with pytest.raises(InvalidInput, match="use 'Riverside'") as refused:
        make_component(db, LINE, substation="Hilltop", to_substation=cyrillic)
    assert refused.value.problems[0].field == "to_substation"
    with pytest.raises(InvalidInput, match="another substation"):
        make_component(db, LINE, substation="Hilltop", to_substation="\u0397illtop")  # Greek Eta
    assert _names(db) == [("T1", "Riverside")]


def test_full_width_text_is_stored_in_its_plain_form(db):
    made = make_component(db, name="\uff34\uff12", substation="River  side")
    assert (made.name, made.substation) == ("T2", "River side")


def test_an_import_refuses_look_alikes_of_stored_and_earlier_rows(db):
    make_component(db)
    csv = (
        "name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
        "\u03a41,Riverside,transformer,40,110,,\n"  # 2: Greek Tau, like the stored T1
        "T5,Riv\u0435rside,transformer,40,110,,\n"  # 3: Cyrillic ie in the substation
        "T6,Hilltop,transformer,40,110,,\n"
        "\u0422\u2060\u20606,Hilltop,transformer,40,110,,\n"  # 5: word joiners
        "\uff34\uff16,Hilltop,transformer,40,110,,\n"  # 6: full-width T6
    )
    with db.write() as session, pytest.raises(ImportRejection) as refused:
        import_components(session=session, actor=MANAGER, source=csv.encode(), file_name="grid.csv")
    lines = {problem.line: problem.reason for problem in refused.value.problems}
    assert "looks the same as the component 'T1'" in lines[2]
    assert "use 'Riverside'" in lines[3]
    assert "invisible or text-direction" in lines[5]
    assert lines[6] == "repeats line 4: the same name and substation"
    assert _names(db) == [("T1", "Riverside")]


def test_an_api_token_name_that_looks_like_an_active_one_is_refused(db):
    with db.write() as session:
        create_api_token(session=session, actor=MANAGER, name="scada", scope="read")
    for name in ("\u0455cada", "sca\u200bda", "\uff53cada"):  # Cyrillic dze, ZWSP, full-width
        with db.write() as session, pytest.raises(InvalidInput):
            create_api_token(session=session, actor=MANAGER, name=name, scope="read")


@pytest.mark.parametrize("username", ["mona\u200b", "m\u03bfna", "\u202emona"])
def test_a_username_can_only_be_plain_ascii(db, username):
    with db.write() as session, pytest.raises(InvalidInput, match="username"):
        create_user(session=session, actor=MANAGER, username=username, password="grid-watch-123")


def test_a_lookup_by_name_reads_names_as_they_are_stored(db):
    """A measurement import and ``find_component`` find a component however its name is
    written, as long as it normalises to the stored name (full width, doubled blanks)."""
    component = make_component(db, name="T1 North")
    with db.read() as session:
        assert (
            find_component(session=session, name="\uff34\uff11  North", substation=" Riverside").id
            == component.id
        )
    csv = (
        "component_name,substation,timestamp,measurement_type,value\n"
        "\uff34\uff11  North,Riverside,2026-01-01T00:00:00Z,voltage,110\n"
    ).encode()
    summary = run_measurements(db, csv)
    assert summary.inserted == 1
