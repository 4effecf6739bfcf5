from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from core.domain import MeasurementType
from core.errors import DuplicateMeasurement, InvalidInput, MissingPermission, UnknownComponent
from core.measurements.measurement_store import write_measurements
from core.measurements.measurements import (
    add_measurement,
    list_measurements,
    read_series,
    series_bounds,
)
from tests.factories import LINE, MANAGER, USER, make_component

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _add(db, component_id, **fields):
    values = {"measurement_type": "voltage", "timestamp": "2024-03-01T00:00:00Z", "value": 1.0}
    with db.write() as session:
        return add_measurement(
            session=session, actor=MANAGER, component_id=component_id, **{**values, **fields}
        )


def test_add_converts_offsets_to_utc_and_reads_back(db):
    line = make_component(db, LINE)
    _add(
        db, line.id, timestamp="2024-03-01T02:30:00+02:00", value="20.5", measurement_type="VOLTAGE"
    )
    _add(db, line.id, timestamp="2024-03-01T01:00:00", value=-3, measurement_type="Power")
    with db.read() as session:
        table = list_measurements(session=session, component_id=line.id)
    assert table.to_dicts() == [
        {
            "timestamp": datetime(2024, 3, 1, 1, 0, tzinfo=UTC),
            "measurement_type": "power",
            "value": -3.0,
        },
        {
            "timestamp": datetime(2024, 3, 1, 0, 30, tzinfo=UTC),
            "measurement_type": "voltage",
            "value": 20.5,
        },
    ]


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"value": "nan"}, "value"),
        ({"value": float("inf")}, "value"),
        ({"value": "1,5"}, "value"),
        ({"value": ""}, "value"),
        ({"measurement_type": "frequency"}, "measurement_type"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2024-02-30T00:00:00"}, "timestamp"),
    ],
)
def test_bad_measurement_is_refused(db, fields, bad):
    line = make_component(db, LINE)
    with pytest.raises(InvalidInput) as caught:
        _add(db, line.id, **fields)
    assert [p.field for p in caught.value.problems] == [bad]
    with db.read() as session:
        assert series_bounds(session=session, component_id=line.id).count == 0


def test_same_key_is_refused_unless_overwritten(db):
    line = make_component(db, LINE)
    _add(db, line.id, value=1)
    with pytest.raises(DuplicateMeasurement, match="overwrite"):
        _add(db, line.id, timestamp="2024-03-01T01:00:00+01:00", value=2)
    counts = _add(db, line.id, value=3, overwrite=True)
    assert counts.overwritten == 1
    with db.read() as session:
        assert list_measurements(session=session, component_id=line.id)["value"].to_list() == [3.0]


def test_unknown_component_and_user_role(db):
    with pytest.raises(UnknownComponent):
        _add(db, 12345)
    line = make_component(db, LINE)
    with db.write() as session, pytest.raises(MissingPermission):
        add_measurement(
            session=session,
            actor=USER,
            component_id=line.id,
            measurement_type="voltage",
            timestamp=T0,
            value=1,
        )


def _bulk(db, component_id, values, *, start=T0, step=timedelta(minutes=1), kind="power"):
    frame = pl.DataFrame(
        {
            "component_id": [component_id] * len(values),
            "measurement_type": [kind] * len(values),
            "timestamp_us": [
                int((start + i * step).timestamp()) * 1_000_000 for i in range(len(values))
            ],
            "value": [float(v) for v in values],
        }
    )
    with db.write() as session:
        return write_measurements(session, frame, overwrite=False)


def test_short_series_comes_back_raw(db):
    line = make_component(db, LINE)
    _bulk(db, line.id, [1, 2, 3])
    with db.read() as session:
        series = read_series(
            session=session,
            component_id=line.id,
            measurement_type=MeasurementType.POWER,
            start=T0,
            end=T0 + timedelta(minutes=2),  # end is exclusive
        )
    assert not series.downsampled
    assert series.frame["value"].to_list() == [1.0, 2.0]


def test_long_series_is_downsampled_and_keeps_its_peaks(db):
    line = make_component(db, LINE)
    values = [10.0] * 10_000
    values[4321] = 99.0  # a single spike
    values[7777] = -50.0  # a single dip
    _bulk(db, line.id, values)
    _bulk(db, line.id, [5.0] * 100, kind="voltage")  # another type stays out
    with db.read() as session:
        series = read_series(
            session=session,
            component_id=line.id,
            measurement_type=MeasurementType.POWER,
            start=T0,
            end=T0 + timedelta(days=7),
            max_points=200,
        )
    frame = series.frame
    assert series.downsampled and series.raw_count == 10_000
    assert 0 < frame.height <= 200
    assert frame["sample_count"].sum() == 10_000
    assert frame["max_value"].max() == 99.0
    assert frame["min_value"].min() == -50.0
    assert frame["timestamp"].is_sorted()
    assert frame["timestamp"][0] == T0


def test_series_rejects_an_empty_range(db):
    line = make_component(db, LINE)
    with db.read() as session, pytest.raises(InvalidInput, match="after start"):
        read_series(
            session=session,
            component_id=line.id,
            measurement_type=MeasurementType.POWER,
            start=T0,
            end=T0,
        )


def test_bounds(db):
    line = make_component(db, LINE)
    _bulk(db, line.id, [1, 2, 3])
    with db.read() as session:
        bounds = series_bounds(session=session, component_id=line.id)
    assert (bounds.first, bounds.last, bounds.count) == (T0, T0 + timedelta(minutes=2), 3)


def test_store_counts_skips_and_overwrites(db):
    line = make_component(db, LINE)
    assert _bulk(db, line.id, [1, 2, 3]).inserted == 3
    again = _bulk(db, line.id, [7, 8, 9, 10])
    assert (again.inserted, again.skipped) == (1, 3)
    frame = pl.DataFrame(
        {
            "component_id": [line.id],
            "measurement_type": ["power"],
            "timestamp_us": [int(T0.timestamp()) * 1_000_000],
            "value": [42.0],
        }
    )
    with db.write() as session:
        counts = write_measurements(session, frame, overwrite=True)
    assert (counts.inserted, counts.overwritten) == (0, 1)
    with db.read() as session:
        values = list_measurements(session=session, component_id=line.id)["value"].to_list()
    assert values == [10.0, 3.0, 2.0, 42.0]


def test_the_single_post_statements_read_what_the_orm_reads(db):
    """A feed's post runs its prebuilt statements on the driver's cursor; a row must come back
    with the values and types a session's execute gives (aware datetimes, floats, ``None``)."""
    from sqlalchemy import select

    from core.access.api_tokens import _TOKEN_BY_HASH, _hash, create_api_token, revoke_api_token
    from core.db_statements import DriverStatement
    from core.domain import SYSTEM_ACTOR
    from core.models import Component

    line = make_component(db, LINE)  # a voltage and a length; a switch's voltage is None
    with db.write() as session:
        made = create_api_token(
            session=session, actor=SYSTEM_ACTOR, name="feed", scope="write", expires_days=3
        )
        revoke_api_token(session=session, actor=SYSTEM_ACTOR, token_id=made.record.id)
    component = DriverStatement(
        select(Component.__table__.c.voltage_kv, Component.__table__.c.name).where(
            Component.__table__.c.id == line.id
        )
    )
    with db.read() as session:
        token = _TOKEN_BY_HASH.first(session, {"token_hash": _hash(made.secret)})
        expected = session.execute(
            _TOKEN_BY_HASH.statement, {"token_hash": _hash(made.secret)}
        ).one()
        assert tuple(token) == tuple(expected)
        assert token.expires_at.tzinfo is not None and token.last_used_at is None
        assert token.revoked_at.utcoffset() == timedelta(0)
        row = component.first(session, {})
        assert (row.voltage_kv, row.name) == (line.voltage_kv, line.name)
        assert isinstance(row.voltage_kv, float)
        assert _TOKEN_BY_HASH.first(session, {"token_hash": "0" * 64}) is None
