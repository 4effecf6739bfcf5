"""Builders and readers shared by the import tests: files as a user writes them, and what
the database holds afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.db import Database
from core.domain import Actor
from core.grid.component_fields import COMPONENT_FIELDS
from core.import_errors import ImportRejection
from core.imports import COMPONENTS_HEADER, ImportSummary, import_components, import_measurements
from core.models import Component, Measurement
from core.timestamps import from_micros
from tests.factories import MANAGER

MEASUREMENTS_HEADER = "component_name,substation,timestamp,measurement_type,value"


def csv_file(header: str, *rows: str, newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode("utf-8")


def measurements_file(*rows: str) -> bytes:
    return csv_file(MEASUREMENTS_HEADER, *rows)


def components_file(*rows: str) -> bytes:
    return csv_file(COMPONENTS_HEADER, *rows)


def run_measurements(
    db: Database,
    data: Any,
    *,
    overwrite: bool = False,
    file_name: str = "measurements.csv",
    actor: Actor = MANAGER,
    **options: Any,
) -> ImportSummary:
    with db.write() as session:
        return import_measurements(
            session=session,
            actor=actor,
            source=data,
            file_name=file_name,
            overwrite=overwrite,
            **options,
        )


def run_components(
    db: Database,
    data: Any,
    *,
    overwrite: bool = False,
    file_name: str = "components.csv",
    actor: Actor = MANAGER,
) -> ImportSummary:
    with db.write() as session:
        return import_components(
            session=session, actor=actor, source=data, file_name=file_name, overwrite=overwrite
        )


def refusal(run: Any, db: Database, data: Any, **options: Any) -> ImportRejection:
    with pytest.raises(ImportRejection) as caught:
        run(db, data, **options)
    return caught.value


def places(error: ImportRejection) -> list[tuple[int, str]]:
    """Where the problems are, as (line, column), in the order the user reads them."""
    return [(problem.line, problem.column) for problem in error.problems]


def stored_measurements(db: Database) -> list[tuple[str, str, str, float]]:
    """(component name, measurement type, UTC timestamp, value) of every stored measurement."""
    with db.read() as session:
        rows = session.execute(
            select(
                Component.name,
                Measurement.measurement_type,
                Measurement.timestamp_us,
                Measurement.value,
            )
            .join(Component, Component.id == Measurement.component_id)
            .order_by(Component.name, Measurement.measurement_type, Measurement.timestamp_us)
        ).all()
    return [(name, kind, from_micros(at).isoformat(), value) for name, kind, at, value in rows]


def stored_components(db: Database) -> dict[tuple[str, str], dict[str, Any]]:
    """Every stored component's fields, by (name, substation)."""
    with db.read() as session:
        rows = session.scalars(select(Component)).all()
        return {
            (row.name, row.substation): {field: getattr(row, field) for field in COMPONENT_FIELDS}
            for row in rows
        }
