"""Component import: the inventory rules of core.grid.components, applied to every row of a file."""

from __future__ import annotations

import pytest

from core.errors import MissingPermission
from core.imports import COMPONENTS_TEMPLATE_CSV
from tests.factories import SWITCH, TRANSFORMER, USER, make_component
from tests.imports.support import (
    components_file,
    csv_file,
    places,
    refusal,
    run_components,
    stored_components,
)


def test_every_type_is_created_trimmed_and_lowercase(db):
    summary = run_components(
        db,
        components_file(
            " T1 , Riverside ,TRANSFORMER,40,110,,",
            "L1,Riverside,Line,,20,12.5,",
            "S1,Riverside,switch,,,,Closed",
            '"T2, spare",Hilltop,transformer,25.5,20,,',
        ),
    )
    assert (summary.rows, summary.inserted, summary.skipped, summary.overwritten) == (4, 4, 0, 0)
    stored = stored_components(db)
    assert stored[("T1", "Riverside")] == {
        "name": "T1",
        "substation": "Riverside",
        "component_type": "transformer",
        "capacity_mva": 40.0,
        "voltage_kv": 110.0,
        "length_km": None,
        "status": None,
    }
    assert stored[("L1", "Riverside")]["length_km"] == 12.5
    assert stored[("S1", "Riverside")]["status"] == "closed"
    assert stored[("T2, spare", "Hilltop")]["capacity_mva"] == 25.5


def test_columns_may_come_in_any_order_and_case(db):
    data = csv_file(
        "STATUS, component_type ,Name,substation,voltage_kv,length_km,capacity_mva",
        "open,switch,S9,North,,,",
    )
    assert run_components(db, data).inserted == 1
    assert stored_components(db)[("S9", "North")]["status"] == "open"


def test_the_template_imports_as_it_is(db):
    summary = run_components(db, COMPONENTS_TEMPLATE_CSV.encode())
    assert summary.inserted == 3
    assert {kind["component_type"] for kind in stored_components(db).values()} == {
        "transformer",
        "line",
        "switch",
    }


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("T1,Riverside,transformer,nan,110,,", "capacity_mva", "'nan' is not a number"),
        ("T1,Riverside,transformer,1e999,110,,", "capacity_mva", "not a finite number"),
        ('T1,Riverside,transformer,40,"1,5",,', "voltage_kv", "'1,5' is not a number"),
        ("T1,Riverside,transformer,40,1_000,,", "voltage_kv", "is not a number"),
        ("T1,Riverside,transformer,,110,,", "capacity_mva", "a number is required"),
        ("T1,Riverside,transformer,-4,110,,", "capacity_mva", "must be greater than 0"),
        ("T1,Riverside,transformer,40,110,3,", "length_km", "must be empty for a transformer"),
        ("L1,Riverside,line,,20,,", "length_km", "required for a line"),
        ("S1,Riverside,switch,,,,ajar", "status", "'ajar' is not one of open, closed"),
        ("S1,Riverside,switch,,,,", "status", "is required"),
        ("X1,Riverside,breaker,,,,", "component_type", "'breaker' is not one of"),
        (" ,Riverside,switch,,,,open", "name", "must not be empty"),
        ("S1,,switch,,,,open", "substation", "must not be empty"),
        ("S1,Riverside,switch,,,open", "", "has 6 fields but the header has 7"),
    ],
)
def test_each_broken_rule_is_named_by_line_and_column(db, row, column, reason):
    error = refusal(run_components, db, components_file("T0,Riverside,switch,,,,open", row))
    assert places(error) == [(3, column)]
    assert reason in error.problems[0].reason
    assert stored_components(db) == {}


def test_every_broken_rule_of_a_row_is_reported_at_once(db):
    error = refusal(run_components, db, components_file(",,line,5,,,open"))
    assert places(error) == [
        (2, "capacity_mva"),
        (2, "length_km"),
        (2, "name"),
        (2, "status"),
        (2, "substation"),
        (2, "voltage_kv"),
    ]


def test_a_quoted_line_break_is_one_record_and_shifts_later_lines(db):
    data = components_file(
        '"T\n1",Riverside,transformer,40,110,,',  # lines 2 and 3
        "L1,Riverside,line,,20,-1,",
    )
    error = refusal(run_components, db, data)
    assert places(error) == [(2, "name"), (4, "length_km")]
    assert "control characters" in error.problems[0].reason


def test_a_missing_or_unknown_column_is_named_on_line_1(db):
    error = refusal(
        run_components,
        db,
        csv_file("name,substation,type,capacity_mva,voltage_kv,length_km,status", "T1"),
    )
    assert places(error) == [(1, "component_type"), (1, "type")]
    assert "is missing from the header" in str(error)


def test_the_same_name_and_substation_twice_names_both_lines(db):
    data = components_file(
        "T1,Riverside,transformer,40,110,,",
        "T1,Hilltop,transformer,40,110,,",
        " T1 ,Riverside,line,,20,3,",
    )
    error = refusal(run_components, db, data)
    assert places(error) == [(4, "")]
    assert "line 4: repeats line 2: the same name and substation" in str(error)
    assert stored_components(db) == {}


def test_stored_components_are_skipped_unless_overwritten(db):
    make_component(db, TRANSFORMER)  # T1 in Riverside, 40 MVA
    make_component(db, SWITCH)
    data = components_file(
        "T1,Riverside,line,,33,7.5,",  # T1 becomes a line
        "S1,Riverside,switch,,,,open",
        "L1,Riverside,line,,20,12.5,",
    )

    skipped = run_components(db, data)
    assert (skipped.rows, skipped.inserted, skipped.skipped, skipped.overwritten) == (3, 1, 2, 0)
    assert stored_components(db)[("T1", "Riverside")]["capacity_mva"] == 40.0

    replaced = run_components(db, data, overwrite=True)
    assert (replaced.inserted, replaced.skipped, replaced.overwritten) == (0, 0, 3)
    stored = stored_components(db)
    assert stored[("T1", "Riverside")] == {
        "name": "T1",
        "substation": "Riverside",
        "component_type": "line",
        "capacity_mva": None,  # the transformer's field is emptied by the type change
        "voltage_kv": 33.0,
        "length_km": 7.5,
        "status": None,
    }
    assert stored[("S1", "Riverside")]["status"] == "open"


def test_a_user_may_not_import(db):
    with pytest.raises(MissingPermission, match="import components"):
        run_components(db, components_file("T1,Riverside,transformer,40,110,,"), actor=USER)
    assert stored_components(db) == {}
