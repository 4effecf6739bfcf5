from __future__ import annotations

import math
from dataclasses import replace

import pytest
from sqlalchemy import select

from core.domain import ComponentType, SwitchStatus
from core.errors import DuplicateComponent, InvalidInput, MissingPermission, UnknownComponent
from core.grid.component_fields import (
    COMPONENT_FIELDS,
    FIELDS_OF_TYPE,
    OPTIONAL_OF_TYPE,
    validate_component,
)
from core.grid.components import (
    ComponentSort,
    change_component,
    count_measurements,
    delete_component,
    get_component,
    list_components,
    update_component,
)
from core.imports import COMPONENTS_TEMPLATE_CSV
from core.models import Component
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, USER, make_component


def test_create_trims_and_lowercases(db):
    record = make_component(db, name="  T 7 ", substation=" North ", component_type="TRANSFORMER")
    assert (record.name, record.substation) == ("T 7", "North")
    assert record.component_type is ComponentType.TRANSFORMER
    assert record.created_by == MANAGER.username
    with db.read() as session:
        assert get_component(session=session, component_id=record.id) == record


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"substation": ""}, "substation"),
        ({"component_type": "breaker"}, "component_type"),
        ({"capacity_mva": 0}, "capacity_mva"),
        ({"capacity_mva": -5}, "capacity_mva"),
        ({"capacity_mva": math.nan}, "capacity_mva"),
        ({"voltage_kv": math.inf}, "voltage_kv"),
        ({"voltage_kv": "1,5"}, "voltage_kv"),
        ({"voltage_kv": None}, "voltage_kv"),
        ({"length_km": 3}, "length_km"),
        ({"status": "open"}, "status"),
        ({"name": "bad\nname"}, "name"),
    ],
)
def test_invalid_transformer_is_refused_and_nothing_written(db, changes, field):
    with pytest.raises(InvalidInput) as caught:
        make_component(db, TRANSFORMER, **changes)
    assert field in {problem.field for problem in caught.value.problems}
    with db.read() as session:
        assert session.scalars(select(Component)).all() == []


def test_every_problem_is_named_at_once():
    with pytest.raises(InvalidInput) as caught:
        validate_component({"name": "", "substation": "", "component_type": "line"})
    assert {p.field for p in caught.value.problems} == {
        "name",
        "substation",
        "length_km",
        "voltage_kv",
    }


@pytest.mark.parametrize("kind", list(ComponentType))
def test_each_type_needs_the_fields_of_the_table_and_refuses_the_others(kind):
    with pytest.raises(InvalidInput) as caught:
        validate_component({"name": "N", "substation": "S", "component_type": kind.value})
    assert {p.field for p in caught.value.problems} == set(FIELDS_OF_TYPE[kind])
    every = {"capacity_mva": 1, "voltage_kv": 1, "length_km": 1, "status": "open"}
    every["to_substation"] = "Elsewhere"
    with pytest.raises(InvalidInput) as caught:
        validate_component({"name": "N", "substation": "S", "component_type": kind.value} | every)
    refused = {p.field for p in caught.value.problems}
    assert refused == set(every) - {*FIELDS_OF_TYPE[kind], *OPTIONAL_OF_TYPE[kind]}


def test_the_import_template_has_the_table_s_columns():
    header = COMPONENTS_TEMPLATE_CSV.splitlines()[0].split(",")
    assert header[: len(COMPONENT_FIELDS)] == list(COMPONENT_FIELDS)
    assert set(header) == {"to_substation", "rated_current_a", *COMPONENT_FIELDS}


def test_a_wrong_value_is_not_called_missing():
    with pytest.raises(InvalidInput) as caught:
        validate_component({**TRANSFORMER, "capacity_mva": 1e20, "voltage_kv": None})
    reasons = {p.field: p.reason for p in caught.value.problems}
    assert reasons["capacity_mva"].startswith("1e+20 is out of range")
    assert "required for" not in reasons["capacity_mva"]  # it is there, just too large
    assert reasons["voltage_kv"] == "a number is required (required for a transformer)"


def test_switch_needs_a_known_status(db):
    with pytest.raises(InvalidInput, match="status"):
        make_component(db, SWITCH, status="ajar")
    assert make_component(db, SWITCH, status="OPEN").status is SwitchStatus.OPEN


def test_name_is_unique_within_a_substation(db):
    make_component(db, TRANSFORMER)
    with pytest.raises(DuplicateComponent, match="Riverside"):
        make_component(db, TRANSFORMER, name=" T1 ")
    assert make_component(db, TRANSFORMER, substation="Hilltop").substation == "Hilltop"


def test_a_user_may_not_write(db):
    record = make_component(db, TRANSFORMER)
    with db.write() as session, pytest.raises(MissingPermission, match="manager"):
        update_component(session=session, actor=USER, component_id=record.id, fields=LINE)
    with db.write() as session, pytest.raises(MissingPermission):
        delete_component(session=session, actor=USER, component_id=record.id)
    with db.read() as session:
        assert get_component(session=session, component_id=record.id) == record


def test_type_change_empties_the_old_fields(db):
    record = make_component(db, TRANSFORMER)
    with db.write() as session:
        changed = update_component(
            session=session, actor=MANAGER, component_id=record.id, fields=SWITCH
        )
    assert changed.component_type is ComponentType.SWITCH
    assert (changed.capacity_mva, changed.voltage_kv, changed.length_km) == (None, None, None)
    with db.read() as session:
        stored = session.get(Component, record.id)
        assert stored is not None
        assert (stored.capacity_mva, stored.voltage_kv, stored.status) == (None, None, "closed")


def test_update_to_an_existing_name_is_refused(db):
    make_component(db, TRANSFORMER)
    other = make_component(db, LINE)
    with db.write() as session, pytest.raises(DuplicateComponent):
        update_component(
            session=session, actor=MANAGER, component_id=other.id, fields={**LINE, "name": "T1"}
        )


def test_missing_component(db):
    with db.read() as session, pytest.raises(UnknownComponent, match="999"):
        get_component(session=session, component_id=999)
    with db.write() as session, pytest.raises(UnknownComponent):
        delete_component(session=session, actor=MANAGER, component_id=999)


def test_list_search_filter_sort_and_paginate(db):
    for index in range(12):
        make_component(db, TRANSFORMER, name=f"T{index:02d}", capacity_mva=10 + index)
    for index in range(5):
        make_component(db, LINE, name=f"Line {index}", substation="Hilltop")
    make_component(db, SWITCH, name="100%_switch")

    with db.read() as session:
        page = list_components(session=session, limit=5)
        assert page.total == 18
        assert page.counts_by_type == {
            ComponentType.TRANSFORMER: 12,
            ComponentType.LINE: 5,
            ComponentType.SWITCH: 1,
        }
        assert [c.name for c in page.items] == [
            "100%_switch",
            "Line 0",
            "Line 1",
            "Line 2",
            "Line 3",
        ]

        lines = list_components(session=session, component_types=frozenset({ComponentType.LINE}))
        assert lines.total == 5
        assert {c.component_type for c in lines.items} == {ComponentType.LINE}

        hill = list_components(session=session, substations=frozenset({"Hilltop"}))
        assert hill.total == 5

        assert list_components(session=session, search="t0").total == 10
        assert list_components(session=session, search="HILL").total == 5
        # % and _ are plain characters, not wildcards
        assert [c.name for c in list_components(session=session, search="%_").items] == [
            "100%_switch"
        ]
        assert list_components(session=session, search="' OR 1=1 --").total == 0

        biggest = list_components(
            session=session, sort=ComponentSort.CAPACITY_MVA, descending=True, limit=2
        )
        assert [c.capacity_mva for c in biggest.items] == [21.0, 20.0]

        last = list_components(session=session, offset=15, limit=5)
        assert len(last.items) == 3 and last.total == 18


def test_delete_takes_its_measurements(db):
    from core.measurements.measurements import add_measurement

    keep = make_component(db, LINE)
    gone = make_component(db, TRANSFORMER)
    with db.write() as session:
        for component in (keep, gone):
            for hour in range(3):
                add_measurement(
                    session=session,
                    actor=MANAGER,
                    component_id=component.id,
                    measurement_type="power",
                    timestamp=f"2024-01-01T0{hour}:00:00Z",
                    value=hour,
                )
    with db.write() as session:
        assert delete_component(session=session, actor=MANAGER, component_id=gone.id) == 3
    with db.read() as session:
        assert count_measurements(session=session, component_id=gone.id) == 0
        assert count_measurements(session=session, component_id=keep.id) == 3
        with pytest.raises(UnknownComponent):
            get_component(session=session, component_id=gone.id)


def test_a_listed_component_is_the_component_itself(db):
    """The list builds its records from columns by position, into their slots; each is the
    record that ``get_component`` reads for the same component and the one the class's own
    constructor makes of its fields, every field in its place."""
    made = [
        make_component(db, TRANSFORMER),
        make_component(db, LINE, to_substation="Hilltop"),
        make_component(db, SWITCH, status="open"),
    ]
    with db.read() as session:
        listed = list_components(session=session).items
        for record in listed:
            assert record == get_component(session=session, component_id=record.id)
            assert record == replace(record) and hash(record) == hash(replace(record))
    assert {record.id for record in listed} == {record.id for record in made}
    line = next(record for record in listed if record.component_type is ComponentType.LINE)
    assert (line.to_substation, line.length_km, line.status) == ("Hilltop", LINE["length_km"], None)
    switch = next(record for record in listed if record.component_type is ComponentType.SWITCH)
    assert switch.status is SwitchStatus.OPEN


def test_a_partial_change_keeps_what_it_does_not_name_and_a_new_type_starts_empty(db):
    line = make_component(db, LINE, to_substation="Hilltop")
    with db.write() as session:
        longer = change_component(
            session=session, actor=MANAGER, component_id=line.id, changes={"length_km": 30}
        )
    assert (longer.name, longer.length_km, longer.voltage_kv) == ("L1", 30, line.voltage_kv)
    assert longer.to_substation == "Hilltop"
    with db.write() as session:
        switch = change_component(
            session=session,
            actor=MANAGER,
            component_id=line.id,
            changes={"component_type": "SWITCH", "status": "open"},
        )
    assert switch.component_type is ComponentType.SWITCH
    assert switch.status is SwitchStatus.OPEN
    assert (switch.length_km, switch.voltage_kv, switch.to_substation) == (None, None, None)
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        change_component(
            session=session,
            actor=MANAGER,
            component_id=line.id,
            changes={"component_type": "transformer"},
        )
    assert {problem.field for problem in refused.value.problems} == {"capacity_mva", "voltage_kv"}
    with db.write() as session, pytest.raises(UnknownComponent):
        change_component(session=session, actor=MANAGER, component_id=10**6, changes={})
