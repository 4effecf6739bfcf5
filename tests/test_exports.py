"""Exports: the components list as the page filters it, a component's raw measurements."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from core.cli import main
from core.domain import ComponentType, MeasurementType
from core.errors import InvalidInput, UnknownComponent
from core.exports import (
    MEASUREMENT_COLUMNS,
    ExportFormat,
    components_frame,
    frame_bytes,
    measurements_export,
)
from core.imports import import_measurements
from core.measurements.measurements import add_measurement
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component

START = datetime(2024, 5, 1, tzinfo=UTC)


def measurements_frame(*, session, component_id, **bounds) -> pl.DataFrame:
    """The export's batches gathered into one frame (the ranges here are small)."""
    export = measurements_export(session=session, component_id=component_id, **bounds)
    batches = export.batches(session)
    return pl.concat([pl.DataFrame(schema=MEASUREMENT_COLUMNS), *batches], how="vertical")


def _measure(db, component_id, kind, count, value=10.0):
    with db.write() as session:
        for step in range(count):
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=component_id,
                measurement_type=kind,
                timestamp=START + timedelta(minutes=15 * step),
                value=value + step % 10,  # plausible on a 20 kV line
            )


def test_the_components_export_holds_every_match_of_the_filters_not_one_page(db):
    make_component(db, TRANSFORMER)
    make_component(db, LINE)
    for number in range(60):
        make_component(db, SWITCH, name=f"S{number:02d}", substation="Hilltop")
    with db.read() as session:
        everything = components_frame(session=session)
        switches = components_frame(
            session=session, component_types=[ComponentType.SWITCH], search="s5"
        )
    assert everything.height == 62
    assert switches["name"].to_list() == [f"S5{n}" for n in range(10)]
    csv = pl.read_csv(io.BytesIO(frame_bytes(switches, ExportFormat.CSV)))
    assert csv.columns[:4] == ["id", "name", "substation", "component_type"]
    assert csv["status"].to_list() == ["closed"] * 10
    assert csv["capacity_mva"].null_count() == 10  # empty cells, not "None"


def test_a_csv_export_neutralises_formulas(db):
    make_component(db, TRANSFORMER, name="=HYPERLINK(1)", substation="@evil")
    with db.read() as session:
        data = frame_bytes(components_frame(session=session), ExportFormat.CSV).decode()
    assert "'=HYPERLINK(1)" in data and "'@evil" in data


def test_a_measurements_export_is_raw_in_range_of_the_chosen_types(db):
    line = make_component(db, LINE)
    _measure(db, line.id, "voltage", 2100)  # more than a chart shows
    _measure(db, line.id, "current", 5)
    with db.read() as session:
        raw = measurements_frame(
            session=session,
            component_id=line.id,
            measurement_types=[MeasurementType.VOLTAGE],
            start=START + timedelta(hours=1),
            end=START + timedelta(days=40),
        )
        both = measurements_frame(session=session, component_id=line.id)
    assert raw.height == 2100 - 4  # every measurement, not a downsampled series
    assert set(raw["measurement_type"]) == {"voltage"}
    assert raw["timestamp"][0] == START + timedelta(hours=1)
    assert both.height == 2105
    parquet = pl.read_parquet(io.BytesIO(frame_bytes(raw, ExportFormat.PARQUET)))
    assert parquet.equals(raw)


def test_a_measurements_export_imports_back_unchanged(db):
    line = make_component(db, LINE)
    _measure(db, line.id, "power", 4, value=1.25)
    with db.read() as session:
        exported = measurements_frame(session=session, component_id=line.id)
    with db.write() as session:
        summary = import_measurements(
            session=session,
            actor=MANAGER,
            source=frame_bytes(exported, ExportFormat.CSV),
            file_name="export.csv",
            overwrite=False,
        )
    assert (summary.inserted, summary.skipped) == (0, 4)


def test_bad_export_requests_are_refused(db):
    line = make_component(db, LINE)
    with db.read() as session:
        with pytest.raises(UnknownComponent):
            measurements_frame(session=session, component_id=line.id + 1)
        with pytest.raises(InvalidInput, match="end: must be after start"):
            measurements_frame(session=session, component_id=line.id, start=START, end=START)


@pytest.fixture
def url(db):
    return db.engine.url.render_as_string(hide_password=False)


def test_export_commands_write_files_or_standard_output(db, url, tmp_path, capsys):
    line = make_component(db, LINE)
    make_component(db, TRANSFORMER)
    _measure(db, line.id, "voltage", 10)
    out = tmp_path / "components.csv"
    assert main(["--database-url", url, "export-components", str(out), "--type", "line"]) == 0
    assert pl.read_csv(out)["name"].to_list() == ["L1"]
    assert "1 components written" in capsys.readouterr().out

    args = ["--database-url", url, "export-measurements", "-", "--name", "L1"]
    assert main([*args, "--substation", "Riverside", "--start", "2024-05-01T01:00Z"]) == 0
    printed = pl.read_csv(io.BytesIO(capsys.readouterr().out.encode()))
    assert printed["value"].to_list() == [14.0, 15.0, 16.0, 17.0, 18.0, 19.0]

    parquet = tmp_path / "l1.parquet"
    assert main(["--database-url", url, "export-measurements", str(parquet), "--component-id",
                 str(line.id)]) == 0  # fmt: skip
    assert pl.read_parquet(parquet).height == 10


def test_export_commands_refuse_what_they_cannot_do(db, url, tmp_path, capsys):
    make_component(db, LINE)
    assert main(["--database-url", url, "export-measurements", "-", "--name", "L9",
                 "--substation", "Riverside"]) == 1  # fmt: skip
    assert "component 'L9' in 'Riverside' does not exist" in capsys.readouterr().err
    assert main(["--database-url", url, "export-measurements", "-"]) == 1
    assert "give --component-id, or --name and --substation" in capsys.readouterr().err
    missing = tmp_path / "nowhere" / "out.csv"
    assert main(["--database-url", url, "export-components", str(missing)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not missing.parent.exists()


def test_a_csv_export_keeps_every_digit_of_a_value(db):
    """Report tables round to 12 significant digits; a raw export must not, or a value read
    back from it would differ from the stored one."""
    line = make_component(db, LINE)
    _measure(db, line.id, "voltage", 1, value=20.123456789012345)
    with db.read() as session:
        exported = measurements_frame(session=session, component_id=line.id)
    written = pl.read_csv(io.BytesIO(frame_bytes(exported, ExportFormat.CSV)))
    assert written["value"].to_list() == [20.123456789012345]
