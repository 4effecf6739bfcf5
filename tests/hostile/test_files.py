"""Hostile files through the imports and the preview: truncated, mis-encoded, wrongly
delimited, corrupt, mistyped, huge, or full of formulas. Each is imported exactly or refused
with a message naming the problem, and a refusal leaves every table as it was."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.errors import InvalidInput
from core.import_errors import ImportRejection, UnreadableFile
from core.imports import preview_file
from core.measurements.measurements import add_measurement
from core.models import Component, Measurement, MeasurementRollup
from core.reports.jobs import generate_report, get_report_tables
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.hostile.strategies import stored_name
from tests.imports.support import (
    COMPONENTS_HEADER,
    MEASUREMENTS_HEADER,
    places,
    refusal,
    run_components,
    run_measurements,
    stored_components,
    stored_measurements,
)

DB = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

COMPONENTS = (
    f"{COMPONENTS_HEADER}\n"
    "Écluse 1,Riverside,transformer,40,110,,\n"
    '"=HYPERLINK(""http://x"",""y"")",Riverside,line,,20,12.5,\n'
    "+T2,@Hilltop,switch,,,,OPEN\n"
    "-L3,Hilltop,line,,0.4,1e-3,\n"
    '"Name, with comma",Hilltop,transformer,1e-3,1.2e3,,\n'  # the ranges' edges, exactly
)
MEASUREMENTS = (
    f"{MEASUREMENTS_HEADER}\n"
    "T1,Riverside,2024-05-01T11:45:00Z,voltage,110.5\n"
    "T1,Riverside,2024-05-01T13:45:00+02:00,current,-0.0\n"
    'T1,Riverside,"2024-05-01T12:00:00,5Z",power,+1e15\n'
    "L1,Riverside,20240501T1215-0030,Voltage,5e-324\n"
)


def _counts(db) -> tuple[int, int, int]:
    with db.read() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Component, Measurement, MeasurementRollup)
        )


def _records(text: str) -> list[list[str]]:
    """The data records Python's csv module reads: the independent view of the file."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [row for row in rows if row and any(field.strip(" \t") for field in row)]
    return rows[1:]


def _mutations():
    encodings = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le"])
    return st.one_of(
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("encode"), encodings),
        st.tuples(st.just("delimit"), st.sampled_from([";", "\t", "|", ", "])),
        st.tuples(st.just("newline"), st.sampled_from(["\r\n", "\r", "\n\n", "\u2028"])),
        st.tuples(st.just("quote"), st.floats(0, 1)),
    )


def _mutate(text: str, mutation) -> bytes:
    kind, *args = mutation
    data = text.encode("utf-8")
    if kind == "truncate":
        return data[: int(len(data) * args[0])]
    if kind == "insert":
        at = int(len(data) * args[0])
        return data[:at] + args[1] + data[at:]
    if kind == "encode":
        return text.encode(args[0], errors="replace")
    if kind == "delimit":
        return text.replace(",", args[0]).encode("utf-8")
    if kind == "newline":
        return text.replace("\n", args[0]).encode("utf-8")
    at = int(len(text) * args[0])
    return (text[:at] + '"' + text[at:]).encode("utf-8")


def _assert_preview_reads_or_refuses(data: bytes, file_name: str) -> None:
    try:
        frame = preview_file(source=data, file_name=file_name)
    except UnreadableFile as error:
        assert error.reason and file_name in str(error)
    else:
        assert "line" in frame.columns


@DB
@given(_mutations())
@example(("truncate", 0.5))
@example(("encode", "utf-16"))
@example(("encode", "latin-1"))
@example(("encode", "utf-8-sig"))
@example(("delimit", ";"))
@example(("quote", 0.3))
@example(("insert", 0.4, b"\x00"))
def test_a_mangled_components_file_is_imported_exactly_or_refused(db, mutation):
    keep = make_component(db, TRANSFORMER, name="Kept")
    data = _mutate(COMPONENTS, mutation)
    before, stored_before = _counts(db), stored_components(db)
    _assert_preview_reads_or_refuses(data, "components.csv")
    try:
        summary = run_components(db, data)
    except (ImportRejection, UnreadableFile) as error:
        assert str(error)
        if isinstance(error, ImportRejection):
            assert all(problem.line >= 1 and problem.reason for problem in error.problems)
        assert _counts(db) == before and stored_components(db) == stored_before
    else:
        text = data.decode("utf-8").removeprefix("\ufeff")
        records = _records(text)
        assert summary.rows == len(records)
        stored = stored_components(db)
        assert summary.inserted == len(stored) - 1 == len(records)
        for record in records:
            name, substation = stored_name(record[0]), stored_name(record[1])
            assert stored[name, substation]["component_type"] == record[2].strip().lower()
    with db.write() as session:  # the next example starts empty
        session.execute(Component.__table__.delete())
    assert keep.id


@DB
@given(_mutations())
@example(("truncate", 0.77))
@example(("encode", "utf-16-le"))
@example(("newline", "\r"))
@example(("insert", 0.6, b"\xff"))
def test_a_mangled_measurements_file_is_imported_exactly_or_refused(db, mutation):
    make_component(db, TRANSFORMER)
    make_component(db, LINE)
    data = _mutate(MEASUREMENTS, mutation)
    before = _counts(db)
    _assert_preview_reads_or_refuses(data, "measurements.csv")
    try:
        # Edge numbers (1e15 MW on a 40 MVA transformer): the manager's override lets them in.
        summary = run_measurements(db, data, allow_implausible=True)
    except (ImportRejection, UnreadableFile) as error:
        assert str(error)
        assert _counts(db) == before
    else:
        records = _records(data.decode("utf-8").removeprefix("\ufeff"))
        assert summary.rows == summary.inserted == len(records)
        assert len(stored_measurements(db)) == len(records)
    with db.write() as session:
        session.execute(Measurement.__table__.delete())
        session.execute(MeasurementRollup.__table__.delete())
        session.execute(Component.__table__.delete())


def test_formulas_markup_and_edge_numbers_are_stored_exactly(db):
    run_components(db, COMPONENTS.encode("utf-8"))
    stored = stored_components(db)
    assert stored['=HYPERLINK("http://x","y")', "Riverside"]["length_km"] == 12.5
    assert stored["+T2", "@Hilltop"]["status"] == "open"
    assert stored["-L3", "Hilltop"]["length_km"] == 0.001
    assert stored["Name, with comma", "Hilltop"]["capacity_mva"] == 0.001
    assert stored["Name, with comma", "Hilltop"]["voltage_kv"] == 1200
    assert stored["Écluse 1", "Riverside"]["voltage_kv"] == 110


def test_measurement_edge_values_and_offsets_are_stored_exactly(db):
    make_component(db, TRANSFORMER)
    make_component(db, LINE)
    run_measurements(db, MEASUREMENTS.encode("utf-8-sig"), allow_implausible=True)
    assert stored_measurements(db) == [
        ("L1", "voltage", "2024-05-01T12:45:00+00:00", 5e-324),
        ("T1", "current", "2024-05-01T11:45:00+00:00", -0.0),
        ("T1", "power", "2024-05-01T12:00:00.500000+00:00", 1e15),
        ("T1", "voltage", "2024-05-01T11:45:00+00:00", 110.5),
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ('"T\nX"', "must not contain control characters"),
        ("T\x0bX", "must not contain control characters"),
        ("T\u2028X", "must not contain control characters"),
        ("x" * 10_000, "must be at most 200 characters, got 10000"),
    ],
)
def test_names_no_form_accepts_are_refused_by_line_and_column(db, name, reason):
    make_component(db, TRANSFORMER)
    before = _counts(db)
    data = f"{COMPONENTS_HEADER}\nOK,Riverside,switch,,,,open\n{name},Riverside,switch,,,,open\n"
    error = refusal(run_components, db, data.encode("utf-8"))
    assert places(error) == [(3, "name")]
    assert reason in error.problems[0].reason
    assert _counts(db) == before


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _typed(component_id: int, columns: dict[str, pa.Array]) -> bytes:
    base = {
        "component_id": pa.array([component_id]),
        "timestamp": pa.array(["2024-05-01T00:00:00Z"]),
        "measurement_type": pa.array(["voltage"]),
        "value": pa.array([1.5]),
    }
    return _parquet(pa.table({**base, **columns}))


REFUSED_PARQUET = [
    ({"value": pa.array([b"\xff\xfe"], pa.binary())}, None, "holds bytes that are not UTF-8"),
    ({"timestamp": pa.array([dt.timedelta(seconds=5)], pa.duration("us"))}, None, "Duration"),
    ({"value": pa.array([{"a": 1}])}, None, "holds lists or records"),
    ({"timestamp": pa.array([1714521600], pa.int64())}, "timestamp", "'1714521600' is not"),
    ({"timestamp": pa.array([dt.time(1, 2)], pa.time64("us"))}, "timestamp", "is not an ISO"),
    ({"value": pa.array([True])}, "value", "'true' is not a number"),
    ({"value": pa.array([2**64 - 1], pa.uint64())}, "value", "is out of range"),
    ({"value": pa.array([float("nan")])}, "value", "'NaN' is not a number"),
    ({"value": pa.array([None], pa.null())}, "value", "a number is required"),
    ({"component_id": pa.array([1.0])}, "component_id", "'1.0' is not a component id"),
    (
        {"timestamp": pa.array([1714521600123456789], pa.timestamp("ns", tz="UTC"))},
        "timestamp",
        "more precise than a microsecond",
    ),
    (
        {"timestamp": pa.array([253402300799999999 + 10**12], pa.timestamp("us"))},
        "timestamp",
        "is not an ISO 8601 timestamp",
    ),
]


@pytest.mark.parametrize(("columns", "column", "reason"), REFUSED_PARQUET)
def test_a_parquet_column_of_the_wrong_type_is_refused_by_name(db, columns, column, reason):
    component = make_component(db, TRANSFORMER)
    data = _typed(component.id, columns)
    before = _counts(db)
    if column is None:
        with pytest.raises(UnreadableFile, match=reason):
            run_measurements(db, data, file_name="m.parquet")
        with pytest.raises(UnreadableFile, match=reason):
            preview_file(source=data, file_name="m.parquet")
    else:
        error = refusal(run_measurements, db, data, file_name="m.parquet")
        assert places(error) == [(2, column)]
        assert reason in error.problems[0].reason
        assert len(preview_file(source=data, file_name="m.parquet")) == 1
    assert _counts(db) == before


@pytest.mark.parametrize(
    ("columns", "stored"),
    [
        ({"value": pa.array([Decimal("1.50")], pa.decimal128(5, 2))}, 1.5),
        ({"value": pa.array([10**15], pa.uint64())}, 1e15),
        ({"value": pa.array([5e-324])}, 5e-324),
        ({"value": pa.array([b"-0.0"], pa.binary())}, -0.0),
        ({"measurement_type": pa.array(["VOLTAGE"]).dictionary_encode()}, 1.5),
        ({"timestamp": pa.array([1714521600123456000], pa.timestamp("ns"))}, 1.5),
    ],
)
def test_a_parquet_column_of_another_readable_type_is_stored_exactly(db, columns, stored):
    component = make_component(db, TRANSFORMER)
    run_measurements(
        db, _typed(component.id, columns), file_name="m.parquet", allow_implausible=True
    )
    [(_name, kind, _timestamp, value)] = stored_measurements(db)
    assert kind == "voltage" and value == stored  # SQLite keeps no sign on a zero


def test_a_parquet_datetime_keeps_its_microseconds(db):
    component = make_component(db, TRANSFORMER)
    data = _typed(
        component.id, {"timestamp": pa.array([1714521600123456000], pa.timestamp("ns", tz="UTC"))}
    )
    run_measurements(db, data, file_name="m.parquet")
    assert stored_measurements(db)[0][2] == "2024-05-01T00:00:00.123456+00:00"


@DB
@given(st.floats(0, 1), st.binary(min_size=1, max_size=16), st.sampled_from(["cut", "overwrite"]))
def test_a_corrupt_or_truncated_parquet_file_is_refused_or_imported_never_a_crash(
    db, where, junk, how
):
    component = make_component(db, TRANSFORMER)
    frame = pl.DataFrame(
        {
            "component_id": [component.id] * 50,
            "timestamp": [f"2024-05-01T00:{minute:02d}:00Z" for minute in range(50)],
            "measurement_type": ["voltage"] * 50,
            "value": [float(minute) for minute in range(50)],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    data = buffer.getvalue()
    at = int(len(data) * where)
    data = data[:at] if how == "cut" else data[:at] + junk + data[at + len(junk) :]
    before = _counts(db)
    _assert_preview_reads_or_refuses(data, "m.parquet")
    try:
        summary = run_measurements(db, data, file_name="m.parquet")
    except (ImportRejection, UnreadableFile) as error:
        assert str(error)
        assert _counts(db) == before
    else:
        assert len(stored_measurements(db)) == summary.inserted <= 50
    with db.write() as session:
        session.execute(Measurement.__table__.delete())
        session.execute(MeasurementRollup.__table__.delete())
        session.execute(Component.__table__.delete())


def test_a_components_parquet_file_is_refused_with_one_message(db):
    data = _parquet(pa.table({"name": ["T1"]}))
    with pytest.raises(UnreadableFile, match="components are imported from CSV"):
        run_components(db, data, file_name="c.parquet")
    assert _counts(db) == (0, 0, 0)


@pytest.mark.parametrize("value", ["1e308", "-1.7976931348623157e308", "1000000000000000.5"])
def test_a_value_beyond_1e15_is_refused_so_sums_stay_finite(db, value):
    component = make_component(db, TRANSFORMER)
    data = f"{MEASUREMENTS_HEADER}\nT1,Riverside,2024-05-01T00:00:00Z,power,{value}\n"
    error = refusal(run_measurements, db, data.encode())
    assert places(error) == [(2, "value")]
    assert (
        error.problems[0].reason
        == f"'{value}' is out of range: GridBoard stores numbers from -1e+15 to 1e+15"
    )
    with db.write() as session, pytest.raises(InvalidInput, match="out of range"):
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component.id,
            measurement_type="power",
            timestamp="2024-05-01T00:00:00Z",
            value=float(value),
        )
    assert _counts(db) == (1, 0, 0)


def test_extreme_values_in_one_bucket_give_a_finite_report(db):
    """Before the bound, two values of 1.7e308 in one quarter hour overflowed the rollup sum:
    PostgreSQL refused the write with a driver error, SQLite reported an average of inf."""
    make_component(db, TRANSFORMER)
    rows = [f"T1,Riverside,2024-05-01T00:0{minute}:00Z,power,1e15" for minute in range(5)]
    data = (f"{MEASUREMENTS_HEADER}\n" + "\n".join(rows) + "\n").encode()
    run_measurements(db, data, allow_implausible=True)  # 1e15 MW: only by the override
    report = generate_report(
        db,
        actor=MANAGER,
        start=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
        end=dt.datetime(2024, 5, 2, tzinfo=dt.UTC),
    )
    with db.read() as session:
        daily = get_report_tables(session=session, report_id=report.id)["daily_averages"]
    assert daily.select("avg_value", "sample_count", "max_value").rows() == [(1e15, 5, 1e15)]


def test_an_unclosed_quote_is_named_by_the_lines_it_swallows(db):
    rows = "".join(f"T{n},Riverside,switch,,,,open\n" for n in range(3000))
    data = f'{COMPONENTS_HEADER}\n"Open quote,Riverside,switch,,,,open\n{rows}'
    error = refusal(run_components, db, data.encode())
    assert places(error) == [(2, "")]
    assert "is a closing quote missing?" in error.problems[0].reason
    assert _counts(db) == (0, 0, 0)
