"""Every export GridBoard writes imports back unchanged into an empty database."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import select

from core.cli import main
from core.exports import (
    MEASUREMENT_COLUMNS,
    ExportFormat,
    components_frame,
    file_chunks,
    frame_bytes,
    measurements_export,
)
from core.import_errors import ImportRejection
from core.imports import run_import
from core.models import Component, Measurement
from core.seed import seed_grid
from tests.conftest import empty
from tests.factories import MANAGER

END = datetime(2024, 5, 8, tzinfo=UTC)
FIELDS = [
    "name", "substation", "component_type", "capacity_mva", "voltage_kv", "length_km",
    "status", "to_substation",
]  # fmt: skip


def _components(db) -> pl.DataFrame:
    with db.read() as session:
        rows = session.execute(select(*(getattr(Component, name) for name in FIELDS))).all()
    return pl.DataFrame([tuple(row) for row in rows], schema=FIELDS, orient="row").sort(
        "substation", "name"
    )


def _measurements(db) -> pl.DataFrame:
    with db.read() as session:
        rows = session.execute(
            select(
                Component.name,
                Component.substation,
                Measurement.measurement_type,
                Measurement.timestamp_us,
                Measurement.value,
            ).join(Component, Component.id == Measurement.component_id)
        ).all()
    schema = ["name", "substation", "measurement_type", "timestamp_us", "value"]
    return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row").sort(schema[:4])


def _measurement_files(db, export_format: ExportFormat) -> list[bytes]:
    files = []
    with db.read() as session:
        for component_id in session.scalars(select(Component.id)).all():
            export = measurements_export(session=session, component_id=component_id)
            chunks = file_chunks(export.batches(session), export_format, MEASUREMENT_COLUMNS)
            files.append(b"".join(chunks))
    return files


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_a_seeded_grid_exported_imports_back_unchanged_into_an_empty_database(db, export_format):
    with db.write() as session:
        seed_grid(session=session, actor=MANAGER, components=24, per_component=60, end=END)
    components_before, measurements_before = _components(db), _measurements(db)
    assert components_before.get_column("to_substation").drop_nulls().len() > 0
    with db.read() as session:
        components_file = frame_bytes(components_frame(session=session), ExportFormat.CSV)
    measurement_files = _measurement_files(db, export_format)

    empty(db)
    summary = run_import(
        database=db, actor=MANAGER, kind="components", source=components_file,
        file_name="components.csv",
    )  # fmt: skip
    assert summary.inserted == components_before.height
    assert summary.notes() == [
        "ignored columns: id, updated_at, updated_by (written by GridBoard for information)"
    ]
    suffix = ".parquet" if export_format is ExportFormat.PARQUET else ".csv"
    for number, data in enumerate(measurement_files):
        run_import(
            database=db, actor=MANAGER, kind="measurements", source=data,
            file_name=f"measurements-{number}{suffix}",
        )  # fmt: skip

    assert _components(db).equals(components_before)
    assert _measurements(db).equals(measurements_before)  # microseconds and every digit


def test_the_cli_export_imports_back_and_says_which_columns_it_ignored(db, tmp_path, capsys):
    with db.write() as session:
        seed_grid(session=session, actor=MANAGER, components=12, per_component=0, end=END)
    before = _components(db)
    url = db.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "components.csv"
    assert main(["--database-url", url, "export-components", str(out)]) == 0
    empty(db)
    capsys.readouterr()
    assert main(["--database-url", url, "import-components", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (
        "components.csv: ignored columns: id, updated_at, updated_by (written by GridBoard for "
        "information)" in printed
    )
    assert _components(db).equals(before)


def test_an_unknown_column_is_answered_with_every_column_the_import_accepts(db):
    data = b"name,substation,component_type,capacity_mva,voltage_kv,length_km,status,colour\n"
    with pytest.raises(ImportRejection) as refused:
        run_import(database=db, actor=MANAGER, kind="components", source=data,
                   file_name="grid.csv")  # fmt: skip
    (problem,) = refused.value.problems
    assert (problem.column, problem.reason) == (
        "colour",
        "is not a column GridBoard knows here; expected: name, substation, component_type, "
        "capacity_mva, voltage_kv, length_km, status; optional: to_substation, rated_current_a; "
        "ignored if present: id, created_at, created_by, updated_at, updated_by",
    )
