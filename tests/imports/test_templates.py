"""The template files import as they are, components first, then measurements."""

from __future__ import annotations

from core.domain import SYSTEM_ACTOR
from core.imports import COMPONENTS_TEMPLATE_CSV, MEASUREMENTS_TEMPLATE_CSV
from core.seed import seed_grid
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


def test_the_measurements_template_imports_into_the_demo_grid(db):
    """A manager trying the template on the demo grid (``gridboard demo``: 100 components,
    random seed 42) finds the components it names there."""
    with db.write() as session:
        seed_grid(session=session, actor=SYSTEM_ACTOR, components=100, per_component=3)
    summary = run_measurements(db, MEASUREMENTS_TEMPLATE_CSV.encode())
    assert summary.inserted == summary.rows == len(MEASUREMENTS_TEMPLATE_CSV.splitlines()) - 1
