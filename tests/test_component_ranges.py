"""Component numbers within their ranges (voltage level 0.1-1,200 kV, capacity 0.001-5,000
MVA, length 0.001-2,000 km): one table, followed by forms, the API and imports alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput
from core.grid.components import create_component, update_component
from core.import_errors import ImportRejection
from core.imports import run_import
from core.models import Component
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component

HEADER = "name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"


def _count(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Component)) or 0)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"voltage_kv": 99_999}, "voltage_kv", "must be from 0.1 to 1,200 kV, got 99999 kV"),
        ({"voltage_kv": 0.05}, "voltage_kv", "must be from 0.1 to 1,200 kV, got 0.05 kV"),
        ({"capacity_mva": 40_000}, "capacity_mva",
         "must be from 0.001 to 5,000 MVA, got 40000 MVA"),
        ({"capacity_mva": 5e-324}, "capacity_mva",
         "must be from 0.001 to 5,000 MVA, got 4.94065645841e-324 MVA"),
    ],
)  # fmt: skip
def test_a_transformer_out_of_range_is_refused_naming_the_range(db, changes, field, reason):
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        create_component(session=session, actor=MANAGER, fields={**TRANSFORMER, **changes})
    assert [(p.field, p.reason) for p in refused.value.problems] == [(field, reason)]
    assert _count(db) == 0


def test_an_edit_is_held_to_the_same_ranges(db):
    line = make_component(db, LINE)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        update_component(
            session=session,
            actor=MANAGER,
            component_id=line.id,
            fields={**LINE, "length_km": 2_500},
        )
    assert "must be from 0.001 to 2,000 km, got 2500 km" in str(refused.value)


def test_an_import_refuses_out_of_range_rows_by_line(db):
    data = (
        HEADER
        + "T1,Riverside,transformer,40,110,,\n"
        + "T2,Riverside,transformer,40,99999,,\n"
        + "L1,Riverside,line,,20,5000,\n"
    ).encode()
    with pytest.raises(ImportRejection) as refused:
        run_import(database=db, actor=MANAGER, kind="components", source=data, file_name="grid.csv")
    assert [(p.line, p.column, p.reason) for p in refused.value.problems] == [
        (3, "voltage_kv", "must be from 0.1 to 1,200 kV, got 99999 kV"),
        (4, "length_km", "must be from 0.001 to 2,000 km, got 5000 km"),
    ]
    assert _count(db) == 0
