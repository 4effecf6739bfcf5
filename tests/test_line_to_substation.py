"""A line connects two substations: ``to_substation`` through the services, the schema and
the migration that adds it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select

from core.db import Database, alembic_config
from core.errors import DatabaseFailure, InvalidInput
from core.grid.component_fields import validate_component
from core.grid.components import get_component, update_component
from core.models import Component, Measurement
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component


def _problems(fields: dict[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        validate_component(fields)
    return {problem.field: problem.reason for problem in caught.value.problems}


def test_a_line_stores_its_other_end_trimmed(db):
    record = make_component(db, LINE, to_substation="  Hilltop ")
    assert record.to_substation == "Hilltop"
    with db.read() as session:
        assert get_component(session=session, component_id=record.id).to_substation == "Hilltop"


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_the_other_end_is_optional(db, blank):
    assert make_component(db, LINE, to_substation=blank).to_substation is None


def test_a_line_cannot_end_where_it_starts():
    problems = _problems({**LINE, "to_substation": " Riverside "})
    assert set(problems) == {"to_substation"}
    assert "another substation than the line's own" in problems["to_substation"]


@pytest.mark.parametrize("base", [TRANSFORMER, SWITCH])
def test_only_a_line_has_an_other_end(base):
    problems = _problems({**base, "to_substation": "Hilltop"})
    assert problems == {
        "to_substation": f"must be empty for a {base['component_type']}, got 'Hilltop'"
    }


def test_the_other_end_follows_the_name_rules():
    assert (
        "control characters" in _problems({**LINE, "to_substation": "Hill\ntop"})["to_substation"]
    )
    assert (
        "at most 200 characters" in _problems({**LINE, "to_substation": "x" * 201})["to_substation"]
    )


def test_a_type_change_drops_the_other_end(db):
    record = make_component(db, LINE, to_substation="Hilltop")
    with db.write() as session:
        changed = update_component(
            session=session, actor=MANAGER, component_id=record.id, fields=SWITCH
        )
    assert changed.to_substation is None
    with db.read() as session:
        assert session.scalar(select(Component.to_substation)) is None


@pytest.mark.parametrize(
    "row",
    [
        {"component_type": "switch", "status": "open", "to_substation": "Hilltop"},
        {"component_type": "line", "length_km": 1.0, "voltage_kv": 20.0, "to_substation": "A"},
        {"component_type": "line", "length_km": 1.0, "voltage_kv": 20.0, "to_substation": " "},
    ],
)
def test_the_schema_refuses_what_the_rules_refuse(db, row):
    """Rows written around the services (SQL, an old tool) still cannot break the rule."""
    values = {"name": "X", "substation": "A", "created_by": "t", "updated_by": "t", **row}
    with pytest.raises(DatabaseFailure) as refused, db.write() as session:
        session.execute(insert(Component), [values])
    assert "ck_components_to_substation" in str(refused.value)  # named, with no values


def test_migrating_from_0004_keeps_components_and_measurements(tmp_path: Path):
    """The column is added in place: on SQLite, copying the table (Alembic's batch mode)
    would drop ``components`` and cascade the drop to every measurement."""
    database = Database.from_url(f"sqlite:///{tmp_path / 'old.db'}")
    with database.engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0004")
        connection.commit()
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO components (id, name, substation, component_type, length_km, "
            "voltage_kv, created_at, created_by, updated_at, updated_by) VALUES (1, 'L1', "
            "'Riverside', 'line', 2.5, 20, '2024-01-01', 't', '2024-01-01', 't')"
        )
        connection.exec_driver_sql(
            "INSERT INTO measurements (component_id, measurement_type, timestamp_us, value) "
            "VALUES (1, 'current', 1714521600000000, 12.0)"
        )
    database.migrate()
    with database.read() as session:
        assert session.scalar(select(Component.to_substation)) is None
        assert session.scalars(select(Measurement.value)).all() == [12.0]
    with database.write() as session:
        update_component(
            session=session,
            actor=MANAGER,
            component_id=1,
            fields={**LINE, "to_substation": "Hilltop"},
        )
    with database.read() as session:
        assert session.scalar(select(Component.to_substation)) == "Hilltop"
    database.dispose()
