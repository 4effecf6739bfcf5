"""The template files import as they are, components first, then measurements."""

from __future__ import annotations

from core.imports import COMPONENTS_TEMPLATE_CSV, MEASUREMENTS_TEMPLATE_CSV
from tests.imports.support import (
    COMPONENTS_HEADER,
    MEASUREMENTS_HEADER,
    run_components,
    run_measurements,
    stored_measurements,
)


def test_templates_name_the_documented_columns():
    # The exercise's columns, then a line's optional other end and rated current.
    header = COMPONENTS_HEADER + ",to_substation,rated_current_a"
    assert COMPONENTS_TEMPLATE_CSV.splitlines()[0] == header
    assert MEASUREMENTS_TEMPLATE_CSV.splitlines()[0] == MEASUREMENTS_HEADER


def test_the_templates_import_together(db):
    assert run_components(db, COMPONENTS_TEMPLATE_CSV.encode()).inserted == 3
    summary = run_measurements(db, MEASUREMENTS_TEMPLATE_CSV.encode())
    assert summary.inserted == summary.rows == len(MEASUREMENTS_TEMPLATE_CSV.splitlines()) - 1
    assert {kind for _name, kind, _ts, _value in stored_measurements(db)} == {
        "voltage",
        "current",
        "power",
    }
