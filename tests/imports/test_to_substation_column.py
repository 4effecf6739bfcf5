"""The optional ``to_substation`` column of a components file: a line's other end."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Component
from tests.imports.support import (
    COMPONENTS_HEADER,
    components_file,
    csv_file,
    places,
    refusal,
    run_components,
)

WITH_ENDS = COMPONENTS_HEADER + ",to_substation"


def ends(db) -> dict[str, str | None]:
    with db.read() as session:
        return dict(session.execute(select(Component.name, Component.to_substation)).all())


def test_a_file_with_the_column_stores_each_lines_other_end(db):
    data = csv_file(
        WITH_ENDS,
        "L1,Riverside,line,,20,12.5,, Hilltop ",
        "L2,Riverside,line,,0.4,0.3,,",
        "T1,Riverside,transformer,40,110,,,",
    )
    assert run_components(db, data).inserted == 3
    assert ends(db) == {"L1": "Hilltop", "L2": None, "T1": None}


def test_the_column_may_come_anywhere_in_the_header(db):
    data = csv_file(
        "to_substation,name,substation,component_type,capacity_mva,voltage_kv,length_km,status",
        "Hilltop,L1,Riverside,line,,20,12.5,",
    )
    run_components(db, data)
    assert ends(db) == {"L1": "Hilltop"}


def test_a_file_without_the_column_still_imports(db):
    assert run_components(db, components_file("L1,Riverside,line,,20,12.5,")).inserted == 1
    assert ends(db) == {"L1": None}


def test_bad_other_ends_are_named_by_line_and_column_and_nothing_is_written(db):
    error = refusal(
        run_components,
        db,
        csv_file(
            WITH_ENDS,
            "L1,Riverside,line,,20,12.5,,Hilltop",
            "L2,Riverside,line,,20,2,,Riverside",
            "T1,Riverside,transformer,40,110,,,Hilltop",
        ),
    )
    assert places(error) == [(3, "to_substation"), (4, "to_substation")]
    assert "another substation than the line's own" in error.problems[0].reason
    assert "must be empty for a transformer" in error.problems[1].reason
    assert ends(db) == {}


def test_overwriting_with_an_older_file_keeps_the_stored_other_end(db):
    run_components(db, csv_file(WITH_ENDS, "L1,Riverside,line,,20,12.5,,Hilltop"))
    summary = run_components(db, components_file("L1,Riverside,line,,20,14,"), overwrite=True)
    assert summary.overwritten == 1
    assert ends(db) == {"L1": "Hilltop"}
    with db.read() as session:
        assert session.scalar(select(Component.length_km)) == 14.0


def test_overwriting_with_the_column_replaces_or_clears_the_other_end(db):
    run_components(db, csv_file(WITH_ENDS, "L1,Riverside,line,,20,12.5,,Hilltop"))
    run_components(db, csv_file(WITH_ENDS, "L1,Riverside,line,,20,12.5,,Seaside"), overwrite=True)
    assert ends(db) == {"L1": "Seaside"}
    run_components(db, csv_file(WITH_ENDS, "L1,Riverside,line,,20,12.5,,"), overwrite=True)
    assert ends(db) == {"L1": None}


def test_an_older_file_turning_a_line_into_a_switch_drops_its_other_end(db):
    run_components(db, csv_file(WITH_ENDS, "L1,Riverside,line,,20,12.5,,Hilltop"))
    run_components(db, components_file("L1,Riverside,switch,,,,open"), overwrite=True)
    assert ends(db) == {"L1": None}
