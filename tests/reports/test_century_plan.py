"""A century's report reads the rollups through their key on both databases: each of its
spans (some 140 in Zurich, most without data) is a range of the key per type pair, never a
pass over every rollup row, and PostgreSQL does not JIT-compile the statement's parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from core.reports.compute import compute_report
from core.reports.zones import MAX_PERIOD_DAYS
from tests.reports.test_compute import _grid, _measure

START = datetime(1950, 1, 1, tzinfo=UTC)


def _report_statement(db) -> tuple[str, object]:
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "measurement_rollups" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.read() as session:
            end = START + timedelta(days=MAX_PERIOD_DAYS)
            compute_report(session, start=START, end=end, time_zone="Europe/Zurich")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    ((statement, parameters),) = statements
    return statement, parameters


def test_a_centurys_report_reads_the_rollups_by_their_key(db):
    _measure(db, _grid(db), days=2)
    statement, parameters = _report_statement(db)
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
            connection.exec_driver_sql("SET enable_seqscan = off")  # as on a large table
            plan = [
                row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            ]
            # Each span is read through the key: an index scan of it, or a bitmap built from it
            # (the planner's choice, by its statistics), never a scan of the whole table.
            reads = [step for step in plan if "Scan" in step and "measurement_rollups" in step]
            by_key = [s for s in reads if "pk_measurement_rollups" in s]
            heaps = [s for s in reads if "Bitmap Heap Scan on measurement_rollups" in s]
            keyed = [step for step in plan if "Index Cond: (((component_type)" in step]
            assert by_key and len(by_key) + len(heaps) == len(reads), "\n".join(plan)
            assert len(keyed) == len(by_key), "\n".join(plan)
        else:
            plan = [
                row[3]
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            reads = [step for step in plan if "measurement_rollups" in step]
            assert reads and all(s.startswith("SEARCH") for s in reads), "\n".join(plan)
            assert all("component_type=? AND measurement_type=?" in s for s in reads), plan
