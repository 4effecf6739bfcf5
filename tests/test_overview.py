"""The overview: counts, substations, the measurement span, freshness and latest reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import text

from core.domain import SYSTEM_ACTOR, ComponentType
from core.grid import overview
from core.grid.components import delete_component, update_component
from core.grid.overview import read_overview
from core.measurements.measurement_store import write_measurements
from core.reports.jobs import generate_report, request_report
from core.timestamps import to_micros
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component

NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _forget():
    overview.REMEMBERED.clear()


def measure(db, component_id: int, *moments: datetime, kind: str = "voltage") -> None:
    frame = pl.DataFrame(
        {
            "component_id": [component_id] * len(moments),
            "measurement_type": [kind] * len(moments),
            "timestamp_us": [to_micros(moment) for moment in moments],
            "value": [1.0] * len(moments),
        }
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)


def read(db):
    with db.read() as session:
        return read_overview(session=session)


def test_an_empty_database_has_an_empty_overview(db):
    seen = read(db)
    assert seen.components == seen.measurements == 0
    assert seen.counts_by_type == dict.fromkeys(ComponentType, 0)
    assert seen.substations == seen.stale == seen.latest_reports == []
    assert seen.first_measurement is seen.last_measurement is seen.stale_since is None


def test_counts_per_type_and_voltage_level(db):
    make_component(db, TRANSFORMER, name="T1", voltage_kv=110)
    make_component(db, TRANSFORMER, name="T2", voltage_kv=20, capacity_mva=1)
    make_component(db, LINE, name="L1", voltage_kv=20)
    make_component(db, LINE, name="L2", voltage_kv=20, substation="Hilltop")
    make_component(db, SWITCH)
    seen = read(db)
    assert seen.components == 5
    assert seen.counts_by_type == {
        ComponentType.TRANSFORMER: 2,
        ComponentType.LINE: 2,
        ComponentType.SWITCH: 1,
    }
    assert [(c.component_type.value, c.voltage_kv, c.count) for c in seen.counts_by_level] == [
        ("line", 20.0, 2),
        ("switch", None, 1),
        ("transformer", 110.0, 1),
        ("transformer", 20.0, 1),
    ]
    assert [(s.substation, s.components) for s in seen.substations] == [
        ("Hilltop", 1),
        ("Riverside", 4),
    ]


def test_freshness_is_measured_against_the_last_day_of_data(db):
    fresh = make_component(db, TRANSFORMER, name="T1")
    quiet = make_component(db, LINE, name="L1")
    make_component(db, SWITCH, substation="Hilltop")
    measure(db, fresh.id, NOW - timedelta(days=3), NOW, kind="power")
    measure(db, fresh.id, NOW - timedelta(hours=1))
    measure(db, quiet.id, NOW - timedelta(days=1, minutes=15), kind="current")

    seen = read(db)
    assert seen.measurements == 4
    assert seen.first_measurement == NOW - timedelta(days=3)  # 12:00 starts its bucket
    assert seen.last_measurement == NOW
    assert seen.stale_since == NOW - timedelta(days=1)
    assert [(c.name, c.newest) for c in seen.stale] == [
        ("S1", None),  # never measured comes first
        ("L1", NOW - timedelta(days=1, minutes=15)),
    ]
    by_name = {s.substation: s for s in seen.substations}
    assert (by_name["Riverside"].newest, by_name["Riverside"].stale) == (NOW, 1)
    assert (by_name["Hilltop"].newest, by_name["Hilltop"].stale) == (None, 1)


def test_new_data_shows_at_once_although_the_newest_times_are_remembered(db):
    component = make_component(db, LINE)
    measure(db, component.id, NOW - timedelta(days=2))
    assert read(db).last_measurement == NOW - timedelta(days=2)

    measure(db, component.id, NOW, kind="current")
    assert read(db).last_measurement == NOW
    other = make_component(db, SWITCH)
    assert [c.name for c in read(db).stale] == ["S1"]
    with db.write() as session:
        update_component(
            session=session,
            actor=MANAGER,
            component_id=other.id,
            fields={**SWITCH, "substation": "Hilltop"},
        )
    assert [c.substation for c in read(db).stale] == ["Hilltop"]
    with db.write() as session:
        delete_component(session=session, actor=MANAGER, component_id=other.id)
    assert read(db).stale == []


def test_the_latest_completed_reports_newest_first(db):
    component = make_component(db, TRANSFORMER)
    measure(db, component.id, NOW)
    done = [
        generate_report(db, actor=SYSTEM_ACTOR, start=NOW - timedelta(days=d), end=NOW).id
        for d in range(1, 8)
    ]
    with db.write() as session:
        request_report(session=session, actor=SYSTEM_ACTOR, start=NOW - timedelta(days=1), end=NOW)
    seen = read(db).latest_reports
    assert [r.id for r in seen] == done[::-1][: overview.LATEST_REPORTS]
    assert all(r.finished_at is not None for r in seen)


def _plan(db, query: str) -> str:
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")  # as on a large table
            rows = connection.execute(text(f"EXPLAIN {query}")).scalars()
        else:
            rows = (row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {query}")))
        return "\n".join(rows)


def test_newest_measurements_come_from_index_seeks_not_a_scan(db):
    """The one question asked of measurements: each component's newest per type, read from
    the end of the unique key's range, never a pass over the table."""
    make_component(db, LINE)
    with db.read() as session:
        query = overview.newest_query().compile(
            session.get_bind(), compile_kwargs={"literal_binds": True}
        )
    plan = _plan(db, str(query))
    if db.engine.dialect.name == "postgresql":
        assert "uq_measurements_key" in plan, plan
        assert "Seq Scan on measurements" not in plan, plan
    else:
        assert "SEARCH measurements USING COVERING INDEX uq_measurements_key" in plan, plan
        assert "SCAN measurements" not in plan, plan


def test_a_substation_only_a_line_reaches_is_counted_too(db):
    make_component(db, LINE, to_substation="Hilltop")
    assert [(s.substation, s.components, s.newest) for s in read(db).substations] == [
        ("Hilltop", 0, None),
        ("Riverside", 1, None),
    ]
