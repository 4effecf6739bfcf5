"""A component's raw measurements read through the API and exported as a file carry the same
text for each instant, and that text imports back unchanged."""

from __future__ import annotations

import io

import polars as pl

from core.db import Database
from core.exports import MEASUREMENT_COLUMNS, ExportFormat, file_chunks, measurements_export
from core.imports import import_measurements
from core.measurements.measurements import add_measurement
from tests.factories import LINE, MANAGER, make_component

INSTANTS = ["2024-05-01T00:00:00Z", "2024-05-01T00:15:00.120Z", "2024-05-01T00:30:00.000250Z"]


def test_the_api_and_an_export_write_each_instant_alike_and_it_imports_back(
    client, user_headers, people: Database
):
    line = make_component(people, LINE)
    with people.write() as session:
        for number, instant in enumerate(INSTANTS):
            add_measurement(
                session=session, actor=MANAGER, component_id=line.id,
                measurement_type="power", timestamp=instant, value=number + 0.5,
            )  # fmt: skip
    path = f"/components/{line.id}/measurements"
    answered = client.get(path, params={"format": "csv"}, headers=user_headers)
    assert pl.read_csv(io.BytesIO(answered.content))["timestamp"].to_list() == INSTANTS
    in_json = client.get(path, headers=user_headers).json()
    assert [row["timestamp"] for row in in_json] == INSTANTS
    with people.read() as session:
        export = measurements_export(session=session, component_id=line.id)
        exported = b"".join(
            file_chunks(export.batches(session), ExportFormat.CSV, MEASUREMENT_COLUMNS)
        )
    assert pl.read_csv(io.BytesIO(exported))["timestamp"].to_list() == INSTANTS
    with people.write() as session:
        again = import_measurements(
            session=session, actor=MANAGER, source=exported, file_name="export.csv",
            overwrite=False,
        )  # fmt: skip
    assert (again.inserted, again.skipped) == (0, len(INSTANTS))
