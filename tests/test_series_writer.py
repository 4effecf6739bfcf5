"""The seed's bulk path: whole series written in index order, with exact rollups."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select

from core.measurements import rollups, series_writer
from core.measurements.series_writer import SeriesBlock, new_series_writer
from core.models import Measurement, MeasurementRollup
from tests.factories import LINE, SWITCH, TRANSFORMER, make_component

T0 = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * 1_000_000
MINUTE = 60 * 1_000_000


def _block(ids, kind, values, *, first_us=T0, cadence_us=5 * MINUTE, decimals=4):
    return SeriesBlock(
        component_ids=np.array(ids, dtype=np.int64),
        measurement_type=kind,
        first_us=first_us,
        cadence_us=cadence_us,
        values=np.round(np.array(values, dtype=np.float64), decimals),
        decimals=decimals,
    )


def _rows(db):
    with db.read() as session:
        rows = session.execute(
            select(
                Measurement.component_id,
                Measurement.measurement_type,
                Measurement.timestamp_us,
                Measurement.value,
            ).order_by(Measurement.id)
        ).all()
    return [tuple(row) for row in rows]


def _assert_rollups_agree(db):
    with db.read() as session:
        diff = rollups.differences(session)
    assert diff.is_empty(), diff


def test_series_are_stored_exactly_at_their_times_in_key_order(db):
    transformer = make_component(db).id
    line = make_component(db, LINE).id
    power = [[1.25, -0.0001, 7.5], [2.0, 3.1416, 1e-4]]

    with db.write() as session, new_series_writer(session) as writer:
        # Given in reverse: the writer still writes component by component, type by type.
        written = writer.write(
            [
                _block([line, transformer], "voltage", [[20.1, 20.2], [110.5, 109.9]]),
                _block([transformer, line], "power", power),
            ]
        )

    assert written == writer.written == 10
    assert _rows(db) == [
        (transformer, "power", T0, 1.25),
        (transformer, "power", T0 + 5 * MINUTE, -0.0001),
        (transformer, "power", T0 + 10 * MINUTE, 7.5),
        (transformer, "voltage", T0, 110.5),
        (transformer, "voltage", T0 + 5 * MINUTE, 109.9),
        (line, "power", T0, 2.0),
        (line, "power", T0 + 5 * MINUTE, 3.1416),
        (line, "power", T0 + 10 * MINUTE, 0.0001),
        (line, "voltage", T0, 20.1),
        (line, "voltage", T0 + 5 * MINUTE, 20.2),
    ]


@pytest.mark.parametrize(
    ("first_us", "cadence_us"),
    [
        (T0 + 7 * MINUTE, 5 * MINUTE),  # three samples per quarter hour, first bucket partial
        (T0, 40 * MINUTE),  # quarter hours without a sample in between
        (-3 * 60 * MINUTE - 2 * MINUTE, 4 * MINUTE),  # before 1970: buckets still floor
    ],
)
def test_rollups_are_exact_whatever_the_cadence(db, first_us, cadence_us):
    ids = [make_component(db).id, make_component(db, LINE).id, make_component(db, SWITCH).id]
    more = [make_component(db, TRANSFORMER, name="T2").id]
    values = np.random.default_rng(3).uniform(-50.0, 400.0, (3, 40))

    with db.write() as session, new_series_writer(session) as writer:
        writer.write([_block(ids, "current", values, first_us=first_us, cadence_us=cadence_us)])
        # A second block over the same times: its share is folded into the same rollups.
        writer.write(
            [_block(more, "current", values[:1] * 2, first_us=first_us, cadence_us=cadence_us)]
        )

    _assert_rollups_agree(db)
    with db.read() as session:
        counted = session.scalar(select(func.sum(MeasurementRollup.sample_count)))
    assert counted == 4 * 40


def test_rollups_stay_exact_when_written_in_parts(db, monkeypatch):
    # Long series: the writer folds and writes its pending rollups several times.
    monkeypatch.setattr(series_writer, "_PENDING_ROLLUP_ROWS", 6)
    ids = [make_component(db).id, make_component(db, LINE).id]
    values = np.random.default_rng(5).uniform(0.0, 100.0, (2, 12))

    with db.write() as session, new_series_writer(session) as writer:
        for start in range(0, 12, 4):  # windows of time, as a long seed writes them
            for kind in ("power", "voltage"):
                first_us = T0 + start * 15 * MINUTE
                block = values[:, start : start + 4]
                writer.write([_block(ids, kind, block, first_us=first_us, cadence_us=15 * MINUTE)])
        writer.write([_block(ids[:1], "current", values[:1], cadence_us=5 * MINUTE)])
        writer.write([_block(ids[1:], "current", values[1:], cadence_us=5 * MINUTE)])

    _assert_rollups_agree(db)
    with db.read() as session:
        counted = session.scalar(select(func.sum(MeasurementRollup.sample_count)))
    assert counted == 3 * 2 * 12


def test_values_with_more_decimals_are_refused_and_nothing_is_written(db):
    component = make_component(db).id
    finer = SeriesBlock(
        component_ids=np.array([component]),
        measurement_type="power",
        first_us=T0,
        cadence_us=MINUTE,
        values=np.array([[1.5, 2.00001]]),
        decimals=4,
    )

    refused = "power values must be finite with at most 4 decimals"
    with (
        pytest.raises(ValueError, match=refused),
        db.write() as session,
        new_series_writer(session) as writer,
    ):
        writer.write([_block([component], "voltage", [[110.0]])])
        writer.write([finer])

    assert _rows(db) == []
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(MeasurementRollup)) == 0
