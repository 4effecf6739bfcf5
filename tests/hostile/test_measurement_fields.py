"""Any measurement type, timestamp and value through ``add_measurement``: stored exactly, or
refused with ``InvalidInput`` naming each bad field and nothing written, on both backends."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from core.errors import InvalidInput, UnknownComponent
from core.grid.components import delete_component
from core.measurements.measurements import add_measurement, list_measurements
from core.models import Measurement, MeasurementRollup
from core.timestamps import BadTimestamp, parse_micros, to_micros
from core.validation import FieldError, parse_number
from tests.factories import MANAGER, make_component
from tests.hostile.strategies import HOSTILE_TEXTS, numbers

DB = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KINDS = st.sampled_from(["voltage", "CURRENT", " Power ", "", "volts", *HOSTILE_TEXTS[:6]])
TIMESTAMPS = st.one_of(
    st.sampled_from(
        [
            "2024-05-01T13:45:00+02:00",
            "0001-01-01T00:00:00+01:00",
            "2024-05-01T13:45,5",
            "2024-05-01T13:45:00.1234567Z",
            "\x00",
            "\ud800",
            "9" * 5000,
        ]
    ),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.text(max_size=30),
)


def _expected(kind: str, timestamp: object, value: object) -> tuple[set[str], tuple | None]:
    """The fields docs/design.md's rules refuse, or the row that must be stored."""
    bad: set[str] = set()
    if kind.strip().lower() not in ("voltage", "current", "power"):
        bad.add("measurement_type")
    micros = None
    try:
        micros = to_micros(timestamp) if not isinstance(timestamp, str) else parse_micros(timestamp)
        if not -62135596800000000 <= micros <= 253402300799999999:
            raise BadTimestamp(str(timestamp))
    except BadTimestamp:
        bad.add("timestamp")
    number = None
    try:
        number = parse_number(value)
    except FieldError:
        bad.add("value")
    if not bad and number is not None and not _plausible(kind.strip().lower(), number):
        bad.add("value")
    return bad, None if bad else (kind.strip().lower(), micros, number)


def _plausible(kind: str, number: float) -> bool:
    """docs/design.md#plausibility for the factories' transformer (110 kV, 40 MVA)."""
    if kind == "voltage":
        return 0 <= number <= 220
    if kind == "current":
        return number >= 0
    return abs(number) <= 80


@DB
@given(kind=KINDS, timestamp=TIMESTAMPS, value=numbers)
@example(kind="voltage", timestamp="2024-05-01T00:00:00Z", value=10**5000)
@example(kind="voltage", timestamp="0001-01-01T00:00:00+01:00", value=1.0)
@example(kind="power", timestamp="2024-05-01T00:00:00Z", value=-0.0)
def test_any_measurement_is_stored_exactly_or_refused_by_field(db, kind, timestamp, value):
    component = make_component(db)
    bad, row = _expected(kind, timestamp, value)
    try:
        with db.write() as session:
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=component.id,
                measurement_type=kind,
                timestamp=timestamp,
                value=value,
            )
    except InvalidInput as error:
        assert {problem.field for problem in error.problems} == bad
        assert all(len(str(problem)) < 400 for problem in error.problems), error
    else:
        assert not bad
        with db.read() as session:
            [(stored_at, stored_kind, stored_value)] = list_measurements(
                session=session, component_id=component.id
            ).rows()
        assert stored_kind == row[0] and to_micros(stored_at) == row[1]
        assert stored_value == row[2] and not math.isnan(stored_value)
    finally:  # the next example starts empty
        with db.write() as session:
            session.execute(delete(Measurement))
            session.execute(delete(MeasurementRollup))
            delete_component(session=session, actor=MANAGER, component_id=component.id)


@pytest.mark.parametrize("component_id", [0, -1, 2**31, 2**63, 10**30])
def test_a_measurement_for_an_impossible_component_id_is_not_found(db, component_id):
    with db.write() as session, pytest.raises(UnknownComponent):
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component_id,
            measurement_type="voltage",
            timestamp="2024-05-01T00:00:00Z",
            value=1.0,
        )
