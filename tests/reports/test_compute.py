"""Every KPI against an independent computation: plain SQL rows and plain Python arithmetic."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from sqlalchemy import event, text

from core.db import Database
from core.errors import InvalidInput
from core.measurements.measurement_store import write_measurements
from core.reports import kpis
from core.reports.compute import check_time_zone, compute_report
from tests.factories import LINE, SWITCH, TRANSFORMER, make_component

T0 = datetime(2024, 3, 28, tzinfo=UTC)  # Europe's DST starts on 2024-03-31


def _grid(db):
    """Five components of every type; the four returned get measured, L-unmeasured never."""
    return [
        make_component(db, TRANSFORMER, name="T1", capacity_mva=40, voltage_kv=110),
        make_component(db, TRANSFORMER, name="T2", capacity_mva=0.63, voltage_kv=20),
        make_component(db, LINE, name="L1", length_km=12.5, voltage_kv=20),
        make_component(db, SWITCH, name="S1"),
        make_component(db, LINE, name="L-unmeasured", length_km=3, voltage_kv=0.4),
    ][:4]


def _measure(db, components, *, start=T0, days=6, step_minutes=7, seed=1):
    """Irregular 7-minute cadence so samples fall on both sides of every bucket edge."""
    rng = random.Random(seed)
    rows = []
    steps = days * 24 * 60 // step_minutes
    for component in components:
        for kind in ("voltage", "current", "power"):
            for i in range(steps):
                moment = start + timedelta(minutes=i * step_minutes, seconds=rng.randint(0, 59))
                rows.append(
                    (component.id, kind, int(moment.timestamp() * 1e6), rng.uniform(-5, 30))
                )
    frame = pl.DataFrame(
        rows,
        schema=["component_id", "measurement_type", "timestamp_us", "value"],
        orient="row",
    ).unique(subset=["component_id", "measurement_type", "timestamp_us"])
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)


def _expected_daily(db, start, end, zone, *, by_voltage=False):
    """Plain SQL for the rows, plain Python for days, means and extremes."""
    tz = ZoneInfo(zone)
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.component_type, c.voltage_kv, m.measurement_type, m.timestamp_us, "
                "m.value FROM measurements m JOIN components c ON c.id = m.component_id "
                "WHERE m.timestamp_us >= :low AND m.timestamp_us < :high"
            ),
            {"low": int(start.timestamp() * 1e6), "high": int(end.timestamp() * 1e6)},
        ).all()
    groups = defaultdict(list)
    for component_type, voltage_kv, kind, micros, value in rows:
        day = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).astimezone(tz)
        key = (day.date(), kind, component_type) + ((voltage_kv,) if by_voltage else ())
        groups[key].append(value)
    return {
        key: (sum(values) / len(values), len(values), min(values), max(values))
        for key, values in groups.items()
    }


def _actual_daily(db, start, end, zone, *, by_voltage=False):
    with db.read() as session:
        report = compute_report(session, start=start, end=end, time_zone=zone)
    name = kpis.DAILY_AVERAGES_BY_VOLTAGE if by_voltage else kpis.DAILY_AVERAGES
    table = report.tables[name]
    keys = ["day", "measurement_type", "component_type"] + (["voltage_kv"] if by_voltage else [])
    assert list(table.columns) == list(kpis.SCHEMAS[name])
    assert table.equals(table.sort(keys, nulls_last=True))
    return {
        tuple(row[key] for key in keys): (
            row["avg_value"],
            row["sample_count"],
            row["min_value"],
            row["max_value"],
        )
        for row in table.iter_rows(named=True)
    }, report


def _assert_same(actual, expected):
    assert actual.keys() == expected.keys()
    for key, (avg, count, low, high) in expected.items():
        got = actual[key]
        assert got[1] == count, key
        assert math.isclose(got[0], avg, rel_tol=1e-9, abs_tol=1e-9), key
        assert (got[2], got[3]) == (low, high), key


@pytest.mark.parametrize(
    "zone",
    [
        "UTC",
        "Europe/Zurich",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "America/St_Johns",
        "Pacific/Chatham",
    ],
)
def test_daily_averages_match_plain_python_in_every_zone(db, zone):
    components = _grid(db)
    _measure(db, components)
    # a period that cuts days in half and starts and ends off the quarter hours
    start = T0 + timedelta(hours=5, minutes=7, seconds=3)
    end = T0 + timedelta(days=5, hours=13, minutes=52)
    actual, report = _actual_daily(db, start, end, zone)
    _assert_same(actual, _expected_daily(db, start, end, zone))
    assert report.rollup_rows > 0  # the bulk came from rollups, not raw rows


def _grid_of_levels(db):
    """Transformers and lines at three levels and a switch, all measured."""
    return [
        make_component(db, TRANSFORMER, name="T110", capacity_mva=40, voltage_kv=110),
        make_component(db, TRANSFORMER, name="T20", capacity_mva=0.63, voltage_kv=20),
        make_component(db, TRANSFORMER, name="T20b", capacity_mva=1, voltage_kv=20),
        make_component(db, LINE, name="L20", length_km=12.5, voltage_kv=20),
        make_component(db, LINE, name="L04", length_km=0.3, voltage_kv=0.4),
        make_component(db, SWITCH, name="S1"),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_periods_and_zones_match_plain_python_per_voltage_level_too(db, seed):
    _measure(db, _grid_of_levels(db), days=4, seed=seed)
    rng = random.Random(seed)
    zones = ["UTC", "Europe/Zurich", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe"]
    for _ in range(4):
        start = T0 + timedelta(seconds=rng.randint(0, 2 * 86_400))
        end = start + timedelta(seconds=rng.randint(1, 3 * 86_400))
        zone = rng.choice(zones)
        for by_voltage in (False, True):
            actual, _ = _actual_daily(db, start, end, zone, by_voltage=by_voltage)
            _assert_same(actual, _expected_daily(db, start, end, zone, by_voltage=by_voltage))


def test_daily_averages_per_level_keep_levels_apart_and_switches_without_one(db):
    t110, t20, *_, switch = _grid_of_levels(db)
    frame = pl.DataFrame(
        {
            "component_id": [t110.id, t20.id, switch.id],
            "measurement_type": ["voltage", "voltage", "current"],
            "timestamp_us": [int(T0.timestamp() * 1e6)] * 3,
            "value": [111.0, 19.8, 5.0],
        }
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)
    with db.read() as session:
        report = compute_report(session, start=T0, end=T0 + timedelta(days=1))
    assert report.tables[kpis.DAILY_AVERAGES_BY_VOLTAGE].select(
        "measurement_type", "component_type", "voltage_kv", "avg_value", "sample_count"
    ).to_dicts() == [
        {
            "measurement_type": "current",
            "component_type": "switch",
            "voltage_kv": None,
            "avg_value": 5.0,
            "sample_count": 1,
        },
        {
            "measurement_type": "voltage",
            "component_type": "transformer",
            "voltage_kv": 20.0,
            "avg_value": 19.8,
            "sample_count": 1,
        },
        {
            "measurement_type": "voltage",
            "component_type": "transformer",
            "voltage_kv": 110.0,
            "avg_value": 111.0,
            "sample_count": 1,
        },
    ]
    # the exercise's table still averages over every level
    assert report.tables[kpis.DAILY_AVERAGES].filter(pl.col("measurement_type") == "voltage")[
        "avg_value"
    ].to_list() == [pytest.approx((111.0 + 19.8) / 2)]


def test_a_period_of_decades_in_a_zone_with_dst_is_still_one_statement_sqlite_accepts(db):
    # Zurich has changed its offset twice a year since 1981: about 100 spans, too many for
    # SQLite to take one part per type pair and span (it refuses more than 500 parts).
    components = _grid(db)
    _measure(db, components, days=2)
    start, end = datetime(1975, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    actual, report = _actual_daily(db, start, end, "Europe/Zurich")
    _assert_same(actual, _expected_daily(db, start, end, "Europe/Zurich"))
    assert report.rollup_rows > 0


def test_a_zone_with_an_odd_historical_offset_falls_back_to_raw_rows(db):
    # Monrovia was UTC-00:44:30 until 1972: its midnights cut quarter-hour buckets in two
    components = _grid(db)
    start = datetime(1971, 6, 1, tzinfo=UTC)
    _measure(db, components, start=start, days=3)
    end = start + timedelta(days=3)
    actual, report = _actual_daily(db, start, end, "Africa/Monrovia")
    _assert_same(actual, _expected_daily(db, start, end, "Africa/Monrovia"))
    assert report.raw_rows > 0


def test_samples_exactly_at_start_count_and_at_end_do_not(db):
    (line,) = [make_component(db, LINE)]
    moments = [T0, T0 + timedelta(hours=1), T0 + timedelta(days=1)]
    frame = pl.DataFrame(
        {
            "component_id": [line.id] * 3,
            "measurement_type": ["power"] * 3,
            "timestamp_us": [int(m.timestamp() * 1e6) for m in moments],
            "value": [1.0, 3.0, 100.0],
        }
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)
    actual, _ = _actual_daily(db, T0, T0 + timedelta(days=1), "UTC")
    assert actual == {(date(2024, 3, 28), "power", "line"): (2.0, 2, 1.0, 3.0)}


def test_empty_period_gives_empty_daily_table_and_full_inventory(db):
    _grid(db)
    with db.read() as session:
        report = compute_report(session, start=T0, end=T0 + timedelta(days=1))
    assert report.tables[kpis.DAILY_AVERAGES].is_empty()
    assert report.tables[kpis.COMPONENTS_BY_TYPE].to_dicts() == [
        {"component_type": "line", "count": 2},
        {"component_type": "switch", "count": 1},
        {"component_type": "transformer", "count": 2},
    ]
    assert report.tables[kpis.TRANSFORMER_CAPACITY].to_dicts() == [
        {"voltage_kv": 20.0, "transformer_count": 1, "total_capacity_mva": 0.63},
        {"voltage_kv": 110.0, "transformer_count": 1, "total_capacity_mva": 40.0},
    ]
    assert report.tables[kpis.LINE_LENGTH].to_dicts() == [
        {"voltage_kv": 0.4, "line_count": 1, "total_length_km": 3.0},
        {"voltage_kv": 20.0, "line_count": 1, "total_length_km": 12.5},
    ]


def test_empty_inventory_still_lists_every_type(db):
    with db.read() as session:
        report = compute_report(session, start=T0, end=T0 + timedelta(days=1))
    assert report.tables[kpis.COMPONENTS_BY_TYPE]["count"].to_list() == [0, 0, 0]
    assert report.tables[kpis.TRANSFORMER_CAPACITY].is_empty()


def test_dst_day_in_zurich_has_23_hours_of_samples(db):
    line = make_component(db, LINE)
    start = datetime(2024, 3, 30, 23, tzinfo=UTC)  # 2024-03-31 00:00 in Zurich (UTC+1)
    moments = [start + timedelta(minutes=15 * i) for i in range(4 * 24)]
    frame = pl.DataFrame(
        {
            "component_id": [line.id] * len(moments),
            "measurement_type": ["voltage"] * len(moments),
            "timestamp_us": [int(m.timestamp() * 1e6) for m in moments],
            "value": [20.0] * len(moments),
        }
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)
    actual, _ = _actual_daily(db, start, start + timedelta(days=1), "Europe/Zurich")
    # 31 March lasts 23 hours there; the 24th hour of samples belongs to 1 April
    assert actual[(date(2024, 3, 31), "voltage", "line")][1] == 23 * 4
    assert actual[(date(2024, 4, 1), "voltage", "line")][1] == 4


def test_bad_requests_are_refused():
    with pytest.raises(InvalidInput, match="IANA"):
        check_time_zone("Mars/Olympus")
    with pytest.raises(InvalidInput, match="IANA"):
        check_time_zone("../../etc/passwd")
    assert check_time_zone("") == "UTC"


def test_sqlite_sums_the_raw_edge_rows_through_the_key_not_by_scanning_the_table(tmp_path):
    """SQLite's planner, given the join alone, scans every measurement for a microsecond of
    edge (60 ms at 1M rows); the report's statement must search the key instead."""
    db = Database.from_url(f"sqlite:///{tmp_path / 'plan.db'}")
    db.migrate()
    _measure(db, _grid(db), days=1)
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "measurement_rollups" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        _actual_daily(db, T0 + timedelta(minutes=7), T0 + timedelta(hours=20, seconds=1), "UTC")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    ((statement, parameters),) = statements
    with db.engine.connect() as connection:
        plan = [
            row[3]
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    db.dispose()
    searches = [step for step in plan if "USING INDEX uq_measurements_key" in step]
    assert len(searches) == 2, plan  # the partial quarter hours at both ends
    assert not [step for step in plan if step.startswith("SCAN m")], plan
