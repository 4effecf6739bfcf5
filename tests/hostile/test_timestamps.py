"""Timestamps in every ISO 8601 shape and offset: the exact UTC instant, checked against an
independent calendar computation, or a refusal that names the text and says why. The same
texts go through the import's column-wise checks, which must agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.grid.components import delete_component
from core.imports.measurement_checks import check_measurements
from core.measurements.measurements import add_measurement
from core.measurements.plausibility import RATING_SCHEMA
from core.timestamps import BadTimestamp, from_micros, parse_micros, parse_timestamp
from tests.factories import MANAGER, make_component
from tests.imports.support import (
    measurements_file,
    places,
    refusal,
    run_measurements,
    stored_measurements,
)

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_FIRST = (date(1, 1, 1).toordinal() - _EPOCH_ORDINAL) * 86_400 * 10**6
_LAST = (date(9999, 12, 31).toordinal() + 1 - _EPOCH_ORDINAL) * 86_400 * 10**6 - 1


def _instant(day: date, hour: int, minute: int, second: int, micros: int, offset_s: int) -> int:
    """Microseconds since the epoch by plain calendar arithmetic (no datetime parsing)."""
    seconds = (day.toordinal() - _EPOCH_ORDINAL) * 86_400 + hour * 3600 + minute * 60 + second
    return (seconds - offset_s) * 10**6 + micros


@st.composite
def iso_texts(draw):
    """(text, expected micros or None when GridBoard must refuse it)."""
    day = draw(st.dates())
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    date_shape = draw(st.sampled_from(["extended", "basic", "week"]))
    if date_shape == "extended":
        text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    elif date_shape == "basic":
        text = f"{day.year:04d}{day.month:02d}{day.day:02d}"
    else:
        year, week, weekday = day.isocalendar()
        if not 1 <= year <= 9999:
            year, week, weekday = 2024, 1, 1
        day = date.fromisocalendar(year, week, weekday)
        text = f"{year:04d}-W{week:02d}-{weekday}"
    time_shape = draw(st.sampled_from(["none", "hour", "minute", "second", "fraction", "basic"]))
    fraction = draw(st.text("0123456789", min_size=1, max_size=9))
    micros = 0
    refused = False
    if time_shape == "none":
        hour = minute = second = 0
    else:
        separator = draw(st.sampled_from(["T", " ", "t"]))
        if time_shape == "hour":
            minute = second = 0
            clock = f"{hour:02d}"
        elif time_shape == "minute":
            second = 0
            clock = f"{hour:02d}:{minute:02d}"
        elif time_shape == "second":
            clock = f"{hour:02d}:{minute:02d}:{second:02d}"
        elif time_shape == "fraction":
            mark = draw(st.sampled_from([".", ","]))
            clock = f"{hour:02d}:{minute:02d}:{second:02d}{mark}{fraction}"
            micros = int(fraction[:6].ljust(6, "0"))
            refused = bool(fraction[6:].strip("0"))  # finer than GridBoard stores
        else:
            clock = f"{hour:02d}{minute:02d}{second:02d}"
        text += separator + clock
    offset_s = 0
    if time_shape != "none":
        zone_shape = draw(st.sampled_from(["naive", "Z", "hh:mm", "hhmm", "hh"]))
        offset_minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
        if zone_shape == "hh":
            offset_minutes -= (
                offset_minutes % 60 if offset_minutes >= 0 else -(-offset_minutes % 60)
            )
        sign = "-" if offset_minutes < 0 else "+"
        hh, mm = divmod(abs(offset_minutes), 60)
        zone = {
            "naive": "",
            "Z": "Z",
            "hh:mm": f"{sign}{hh:02d}:{mm:02d}",
            "hhmm": f"{sign}{hh:02d}{mm:02d}",
            "hh": f"{sign}{hh:02d}",
        }[zone_shape]
        if zone_shape in ("hh:mm", "hhmm", "hh"):
            offset_s = offset_minutes * 60
        text += zone
    expected = _instant(day, hour, minute, second, micros, offset_s)
    if refused or not _FIRST <= expected <= _LAST:
        return text, None
    return text, expected


def _import_check(texts: list[str]) -> pl.DataFrame:
    inventory = pl.DataFrame(
        {"component_id": [7], "name": ["T1"], "substation": ["Riverside"],
         "component_type": ["transformer"], "voltage_kv": [110.0], "capacity_mva": [40.0]},
        schema={"component_id": pl.Int64, "name": pl.String, "substation": pl.String,
                **RATING_SCHEMA},
    )  # fmt: skip
    frame = pl.DataFrame(
        {
            "line": list(range(2, len(texts) + 2)),
            "component_name": ["T1"] * len(texts),
            "substation": ["Riverside"] * len(texts),
            "timestamp": texts,
            "measurement_type": ["voltage"] * len(texts),
            "value": ["1"] * len(texts),
        }
    )
    return check_measurements(frame, inventory)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(iso_texts())
@example(("0001-01-01T00:00:00+01:00", None))
@example(("0001-01-01T00:00:00-01:00", _instant(date(1, 1, 1), 1, 0, 0, 0, 0)))
@example(("9999-12-31T23:59:59.999999Z", _LAST))
@example(("9999-12-31T23:30:00-01:00", None))
@example(("2024-05-01T13:45:00.123456789Z", None))
@example(("2024-05-01T13:45:00.123456000Z", _instant(date(2024, 5, 1), 13, 45, 0, 123456, 0)))
@example(("2024-05-01T13:45:00,5+0530", _instant(date(2024, 5, 1), 13, 45, 0, 500000, 19800)))
@example(("2024-W01-1T10:00-02", _instant(date(2024, 1, 1), 10, 0, 0, 0, -7200)))
def test_each_iso_shape_is_the_exact_instant_or_refused_by_name(case):
    text, expected = case
    checked = _import_check([text]).row(0, named=True)
    if expected is None:
        with pytest.raises(BadTimestamp) as caught:
            parse_micros(text)
        assert repr(text) in str(caught.value)
        assert checked["timestamp_us"] is None
        assert checked["problem:timestamp"] == f"'{text}' {caught.value.reason}"
    else:
        assert parse_micros(text) == expected
        assert parse_timestamp(text) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            microseconds=expected
        )
        assert checked["timestamp_us"] == expected
        assert checked["problem:timestamp"] is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-122", "is not an ISO 8601 timestamp"),  # ordinal date
        ("2024122", "is not an ISO 8601 timestamp"),
        ("2024-05-01T23:59:60Z", "second must be in 0..59"),  # a leap second
        ("2024-05-01T24:00:00", "hour must be in 0..23"),
        ("2024-05-01T13:45,5", "is not an ISO 8601 timestamp"),  # half a minute, not a second
        ("2024-05-01T13,5", "is not an ISO 8601 timestamp"),
        ("2024-05-01x13:45", "is not an ISO 8601 timestamp"),  # any separator
        ("2024-05-01513:45", "is not an ISO 8601 timestamp"),
        ("2024-05-01T13:45:00.1234567Z", "more precise than a microsecond"),
        ("0000-12-31T23:00:00Z", "is not an ISO 8601 timestamp"),
        ("+10000-01-01T00:00:00Z", "is not an ISO 8601 timestamp"),
        ("0001-01-01T00:00:00+00:01", "outside the years 1 to 9999"),
        ("9999-12-31T23:59:59-00:01", "outside the years 1 to 9999"),
        ("2023-02-29T00:00:00", "day is out of range for month"),
        ("2024-05-01T13:45:00+24:00", "offset from UTC must be less than 24 hours"),
        ("٢٠٢٤-٠٥-٠١", "is not an ISO 8601 timestamp"),
        ("2024-05-01T13:45:00\x00", "is not an ISO 8601 timestamp"),
        ("1714567890", "is not an ISO 8601 timestamp"),
        ("2024-05-01Z", "is not an ISO 8601 timestamp"),
        ("", "is not an ISO 8601 timestamp"),
    ],
)
def test_shapes_that_are_not_stored_are_refused_with_the_reason(text, reason):
    with pytest.raises(BadTimestamp) as caught:
        parse_timestamp(text)
    assert str(caught.value).startswith(repr(text))
    assert reason in str(caught.value)
    if text:
        problem = _import_check([text]).row(0, named=True)["problem:timestamp"]
        assert reason in problem


DB = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-05:00",
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=3))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-3))),
    ],
)
def test_an_instant_before_year_1_or_after_9999_in_utc_is_refused_not_a_crash(db, timestamp):
    component = make_component(db)
    with db.write() as session, pytest.raises(InvalidInput) as caught:
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component.id,
            measurement_type="voltage",
            timestamp=timestamp,
            value=1.0,
        )
    assert [problem.field for problem in caught.value.problems] == ["timestamp"]
    assert "outside the years 1 to 9999" in str(caught.value)
    assert stored_measurements(db) == []


@DB
@given(iso_texts())
def test_an_imported_timestamp_is_stored_as_its_instant_or_the_file_is_refused(db, case):
    text, expected = case
    component = make_component(db, name="T1", substation="Riverside")
    data = measurements_file(f'T1,Riverside,"{text}",voltage,1.5')
    try:
        if expected is None:
            error = refusal(run_measurements, db, data)
            assert places(error) == [(2, "timestamp")]
            assert text in error.problems[0].reason
            assert stored_measurements(db) == []
        else:
            run_measurements(db, data)
            stored = from_micros(expected).isoformat()
            assert stored_measurements(db) == [("T1", "voltage", stored, 1.5)]
    finally:  # the next example starts empty
        with db.write() as session:
            delete_component(session=session, actor=MANAGER, component_id=component.id)
