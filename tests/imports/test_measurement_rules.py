"""The column-wise checks of a measurement import apply the single-measurement rules exactly."""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.imports.measurement_checks import check_measurements
from core.measurements.plausibility import RATING_SCHEMA
from core.timestamps import parse_micros_many
from core.validation import FieldError, parse_number

INVENTORY = pl.DataFrame(
    {
        "component_id": [7],
        "name": ["T1"],
        "substation": ["Riverside"],
        "component_type": ["transformer"],
        "voltage_kv": [110.0],
        "capacity_mva": [40.0],
    },
    schema={
        "component_id": pl.Int64,
        "name": pl.String,
        "substation": pl.String,
        **RATING_SCHEMA,
    },
)


def _check(value: str = "1", timestamp: str = "2024-05-01T00:00:00") -> dict[str, object]:
    frame = pl.DataFrame(
        {
            "line": [2],
            "component_name": ["T1"],
            "substation": ["Riverside"],
            "timestamp": [timestamp],
            "measurement_type": ["voltage"],
            "value": [value],
        }
    )
    # The parsing rules alone: plausibility has its own parity test (test_plausibility.py).
    return check_measurements(frame, INVENTORY, allow_implausible=True).row(0, named=True)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+-.eE_, naifINFty", max_size=12))
def test_values_follow_parse_number(text):
    checked = _check(value=text)
    try:
        expected = parse_number(text)
    except FieldError as error:
        assert checked["value"] is None
        assert checked["problem:value"] is not None
        if text == text.strip():
            assert checked["problem:value"] == str(error)
    else:
        assert checked["problem:value"] is None
        assert checked["value"] == expected


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.datetimes(timezones=st.none() | st.timezones()).map(lambda moment: moment.isoformat()),
        st.text(alphabet="0123456789-T:+Z. ", max_size=26),
    )
)
@example("0000-01-01T00:00:00")
@example("0001-01-01T00:30:00+01:00")
@example("9999-12-31T23:59:59.999999-23:59")
@example("2023-02-29T00:00:00")
@example("2024-02-29 23:59:59.5-00:30")
@example("2100-02-29T00:00")
@example("2024-05-01T24:00:00")
@example("2024-05-01T23:59:60")
@example("2024-05-01T13:45:00.1234567Z")
@example("2024-05-01")
@example("20240501T134500Z")
def test_timestamps_follow_the_single_measurement_parser(text):
    checked = _check(timestamp=text)
    assert checked["timestamp_us"] == parse_micros_many([text])[0]
    assert (checked["problem:timestamp"] is None) == (checked["timestamp_us"] is not None)
