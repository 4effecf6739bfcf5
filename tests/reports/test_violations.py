"""A report's limit violations: per component and kind the count, the time outside clipped to
the period and the worst value; each type and level's share of time in alarm, overlapping
alarms counted once. Checked against numbers worked out by hand, in every way a report is
read (stored, CSV, the command line), and an old report without the tables still reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import select

from core.alarms.limit_changes import set_component_limits
from core.cli import main
from core.domain import SYSTEM_ACTOR
from core.imports.measurements import import_measurements
from core.models import Report
from core.reports import kpis
from core.reports.compute import compute_report
from core.reports.jobs import generate_report, get_report_tables
from tests.factories import LINE, MANAGER, SWITCH, make_component

T0 = datetime(2024, 3, 1, tzinfo=UTC)
# The period: minute 15 to minute 55 (40 minutes, 2400 s).
START, END = T0 + timedelta(minutes=15), T0 + timedelta(minutes=55)


def _rows(component_id, kind, samples):
    return [
        f"{component_id},{kind},{(T0 + timedelta(minutes=m)).isoformat()},{v}" for m, v in samples
    ]


def build(db):
    """T1 (110 kV, only a high alarm at 112): alarms [10, 30) worst 115, [50, 60) worst 114
    and [70, 80) after the period. T2 (110 kV, default limits): a low warning [20, 35) worst
    101. L1 (20 kV): a high warning from 40 and a high alarm from 45, never cleared."""
    t1 = make_component(db)
    t2 = make_component(db, name="T2")
    line = make_component(db, LINE)
    make_component(db, SWITCH)
    with db.write() as session:
        set_component_limits(
            session=session, actor=MANAGER, component_id=t1.id,
            limits=[{"measurement_type": "voltage", "high_alarm": 112.0}],
        )  # fmt: skip
    lines = ["component_id,measurement_type,timestamp,value"]
    lines += _rows(t1.id, "voltage", [(0, 110), (10, 113), (20, 115), (30, 100), (50, 114),
                                      (60, 100), (70, 120), (80, 100)])  # fmt: skip
    lines += _rows(t2.id, "voltage", [(0, 110), (20, 103), (25, 101), (35, 110)])
    lines += _rows(line.id, "voltage", [(0, 20), (40, 21.5), (45, 22.5), (50, 22.2)])
    with db.write() as session:
        import_measurements(
            session=session, actor=MANAGER, source="\n".join(lines).encode(), file_name="m.csv"
        )
    return t1, t2, line


EXPECTED_VIOLATIONS = [
    # component, substation, type, level, measurement, kind, count, seconds, worst
    ("L1", "Riverside", "line", 20.0, "voltage", "high_alarm", 1, 600.0, 22.5),
    ("L1", "Riverside", "line", 20.0, "voltage", "high_warning", 1, 900.0, 22.5),
    ("T1", "Riverside", "transformer", 110.0, "voltage", "high_alarm", 2, 1200.0, 115.0),
    ("T2", "Riverside", "transformer", 110.0, "voltage", "low_warning", 1, 900.0, 101.0),
]
EXPECTED_SHARES = [
    # type, level, components, alarm s, alarm %, warning or alarm s, warning or alarm %
    ("line", 20.0, 1, 600.0, 25.0, 900.0, 37.5),  # the alarm inside the warning counts once
    ("switch", None, 1, 0.0, 0.0, 0.0, 0.0),
    ("transformer", 110.0, 2, 1200.0, 25.0, 2100.0, 43.75),  # of 2 x 2400 s
]


def _violations(frame):
    return [
        (r["component"], r["substation"], r["component_type"], r["voltage_kv"],
         r["measurement_type"], r["kind"], r["alarm_count"], r["duration_s"], r["worst_value"])
        for r in frame.iter_rows(named=True)
    ]  # fmt: skip


def _shares(frame):
    return [tuple(row) for row in frame.iter_rows()]


def test_the_violations_and_shares_match_a_hand_computation(db):
    build(db)
    with db.read() as session:
        tables = compute_report(session, start=START, end=END).tables
    assert _violations(tables[kpis.LIMIT_VIOLATIONS]) == EXPECTED_VIOLATIONS
    assert _shares(tables[kpis.ALARM_SHARES]) == EXPECTED_SHARES
    with db.read() as session:  # the day before: every level at zero, no violation
        quiet = compute_report(session, start=T0 - timedelta(days=1), end=T0)
    assert quiet.tables[kpis.LIMIT_VIOLATIONS].is_empty()
    assert quiet.tables[kpis.ALARM_SHARES]["alarm_share_pct"].to_list() == [0.0, 0.0, 0.0]


def test_the_command_line_writes_limit_violations_csv_as_stored(db, tmp_path):
    build(db)
    url = db.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "out"
    assert main(["--database-url", url, "report", "--start", START.isoformat(),
                 "--end", END.isoformat(), "--out", str(out)]) == 0  # fmt: skip
    written = pl.read_csv(out / "limit_violations.csv", schema=kpis.SCHEMAS[kpis.LIMIT_VIOLATIONS])
    assert _violations(written) == EXPECTED_VIOLATIONS
    shares = pl.read_csv(
        out / "alarm_shares_by_voltage.csv", schema=kpis.SCHEMAS[kpis.ALARM_SHARES]
    )
    assert _shares(shares) == EXPECTED_SHARES


def test_a_report_stored_before_violations_still_reads(db):
    build(db)
    record = generate_report(db, actor=SYSTEM_ACTOR, start=START, end=END)
    with db.write() as session:  # as a report stored before this version left it
        row = session.scalars(select(Report).where(Report.id == record.id)).one()
        stored = json.loads(row.result_json)
        for name in (kpis.LIMIT_VIOLATIONS, kpis.ALARM_SHARES):
            del stored["tables"][name]
        row.result_json = json.dumps(stored)
    with db.read() as session:
        tables = get_report_tables(session=session, report_id=record.id)
    assert kpis.LIMIT_VIOLATIONS not in tables
    assert not tables[kpis.COMPONENTS_BY_TYPE].is_empty()


@pytest.mark.parametrize("later", [False, True])
def test_an_active_alarm_counts_until_now_or_the_period_end(db, later):
    """L1's alarms never clear: in a period that reaches past now they count until now."""
    build(db)
    now = datetime.now(UTC)
    end = now + timedelta(days=1) if later else END
    with db.read() as session:
        tables = compute_report(session, start=START, end=end).tables
    line = tables[kpis.LIMIT_VIOLATIONS].filter(pl.col("component") == "L1")
    seconds = line.sort("kind")["duration_s"].to_list()
    if later:
        until = (now - (T0 + timedelta(minutes=45))).total_seconds()
        assert seconds[0] == pytest.approx(until, abs=120)
    else:
        assert seconds == [600.0, 900.0]
