"""A line's optional rated current: one field of the one table of fields, so forms, imports and
the API (tests/api/test_alarms.py) take it; only a line has one; a file without it keeps it."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.grid.components import get_component
from core.import_errors import ImportRejection
from tests.factories import LINE, TRANSFORMER, make_component
from tests.imports.support import run_components

HEADER = "name,substation,component_type,capacity_mva,voltage_kv,length_km,status"


def test_only_a_line_has_a_rated_current_and_it_is_positive(db):
    assert make_component(db, LINE, rated_current_a="400").rated_current_a == 400.0
    with pytest.raises(InvalidInput, match="rated_current_a: must be empty for a transformer"):
        make_component(db, TRANSFORMER, name="T9", rated_current_a=400)
    with pytest.raises(InvalidInput, match="rated_current_a:"):
        make_component(db, LINE, name="L9", rated_current_a=-5)


def test_imports_read_the_column_and_a_file_without_it_keeps_the_value(db):
    with_it = f"{HEADER},rated_current_a\nL1,Riverside,line,,20,12.5,,630\n"
    assert run_components(db, with_it.encode()).inserted == 1
    without = f"{HEADER}\nL1,Riverside,line,,20,14,\n"
    assert run_components(db, without.encode(), overwrite=True).overwritten == 1
    with db.read() as session:
        line = get_component(session=session, component_id=1)
    assert (line.length_km, line.rated_current_a) == (14.0, 630.0)
    bad = f"{HEADER},rated_current_a\nT1,Riverside,transformer,40,110,,,630\n"
    with pytest.raises(ImportRejection, match="rated_current_a"):
        run_components(db, bad.encode())
