"""The rollups equal a recomputation from raw rows after writes and component changes that
run at the same time, in a random interleaving, on both databases."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import func, select

from core.errors import BusyDatabase
from core.grid.components import update_component
from core.measurements import rollups
from core.measurements.measurement_store import write_measurements
from core.measurements.measurements import add_measurement
from core.models import Measurement, MeasurementRollup
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component

T0 = datetime(2024, 3, 1, tzinfo=UTC)
CHANGES = 40
POSTS_PER_FEED = 45


def _post(db, component_id: int, moment: datetime, value: float) -> None:
    with db.write() as session:
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component_id,
            measurement_type="power",
            timestamp=moment,
            value=value,
            overwrite=False,
        )


def _import(db, component_id: int, moment: datetime, value: float) -> None:
    frame = pl.DataFrame(
        {
            "component_id": [component_id],
            "measurement_type": ["current"],
            "timestamp_us": [int(moment.timestamp() * 1_000_000)],
            "value": [value],
        }
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=True)


def _change(db, component_id: int, fields: dict[str, object]) -> None:
    with db.write() as session:
        update_component(session=session, actor=MANAGER, component_id=component_id, fields=fields)


def _retried(action, *args) -> None:
    for _ in range(20):
        try:
            action(*args)
            return
        except BusyDatabase:  # a writer's lock held past the timeout on a slow machine
            continue
    raise AssertionError("the database stayed busy for 20 attempts")


def test_concurrent_posts_and_type_or_level_changes_keep_rollups_exact(db):
    rng = random.Random(25)
    component = make_component(db, TRANSFORMER, name="Moving")
    shapes = [
        {**TRANSFORMER, "name": "Moving", "voltage_kv": rng.choice([20.0, 110.0, 220.0])}
        if rng.random() < 0.5
        else {**LINE, "name": "Moving", "voltage_kv": rng.choice([0.4, 20.0, 110.0])}
        for _ in range(CHANGES)
    ]
    failures: list[BaseException] = []

    def change() -> None:
        for fields in shapes:
            _retried(_change, db, component.id, fields)

    def feed(offset: int, write) -> None:
        for index in range(POSTS_PER_FEED):
            moment = T0 + timedelta(minutes=5 * (3 * index + offset))
            # MW a 0.4 kV line carries (plausibility refuses more), whatever shape it has now
            _retried(write, db, component.id, moment, float(rng.randint(1, 90)) / 30)

    def run(target, *args) -> None:
        try:
            target(*args)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [
        threading.Thread(target=run, args=(change,)),
        threading.Thread(target=run, args=(feed, 0, _post)),
        threading.Thread(target=run, args=(feed, 1, _post)),
        threading.Thread(target=run, args=(feed, 2, _import)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures

    with db.read() as session:
        measurements = session.scalar(select(func.count()).select_from(Measurement))
        counted = session.scalar(select(func.sum(MeasurementRollup.sample_count)))
        diff = rollups.differences(session)
    assert measurements == 3 * POSTS_PER_FEED
    assert counted == measurements, f"the rollups count {counted} samples of {measurements}"
    assert diff.is_empty(), diff
