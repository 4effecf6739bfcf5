"""A manager deletes measurements (one, or a component's range of one type), audited; the
rollups stay equal to a recomputation from raw rows, also while others write, on both
databases."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.cli import main
from core.config import Settings
from core.errors import InvalidInput, UnknownComponent, UnknownMeasurement
from core.grid.components import update_component
from core.logs import configure_logging, reset_logging
from core.measurements import rollups
from core.measurements.deletions import delete_measurement, delete_measurements
from core.measurements.measurements import add_measurement
from core.models import Measurement
from core.seed import seed_grid
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.test_rollup_races import _retried

END = datetime(2024, 5, 8, tzinfo=UTC)


def _exact(db) -> None:
    with db.read() as session:
        assert rollups.differences(session).is_empty()


def _stored(db, component_id: int, kind: str) -> list[tuple[int, float]]:
    with db.read() as session:
        rows = session.execute(
            select(Measurement.timestamp_us, Measurement.value)
            .where(Measurement.component_id == component_id)
            .where(Measurement.measurement_type == kind)
            .order_by(Measurement.timestamp_us)
        ).all()
    return [tuple(row) for row in rows]


@pytest.fixture
def audit(tmp_path, capsys):
    file = tmp_path / "logs" / "gridboard.log"
    configure_logging(Settings(cookie_key="k3y-that-signs-the-cookies-0123456789",
                               log_file=str(file)), stream="stdout")  # fmt: skip
    yield lambda action: [
        record
        for record in map(json.loads, file.read_text(encoding="utf-8").splitlines())
        if record.get("action") == action
    ]
    reset_logging()


def test_a_range_and_a_single_measurement_are_deleted_and_the_rollups_stay_exact(db, audit):
    with db.write() as session:
        seed_grid(session=session, actor=MANAGER, components=6, per_component=600, end=END)
    component_id, kind = 1, "voltage"
    before = _stored(db, component_id, kind)
    # Not on quarter-hour bounds: buckets at both ends lose part of their rows.
    start = END - timedelta(days=2, minutes=7)
    end = END - timedelta(days=1, minutes=22)
    low, high = int(start.timestamp() * 1e6), int(end.timestamp() * 1e6)
    with db.write() as session:
        deleted = delete_measurements(
            session=session, actor=MANAGER, component_id=component_id,
            measurement_type="Voltage", start=start, end=end,
        )  # fmt: skip
    kept = [(ts, value) for ts, value in before if not low <= ts < high]
    assert deleted == len(before) - len(kept) > 0
    assert _stored(db, component_id, kind) == kept
    _exact(db)

    # The largest value left: its bucket's maximum must come from the rows that remain.
    with db.read() as session:
        largest = session.scalars(
            select(Measurement)
            .where(Measurement.component_id == component_id)
            .where(Measurement.measurement_type == kind)
            .order_by(Measurement.value.desc())
        ).first()
        assert largest is not None
        largest_id = largest.id
    with db.write() as session:
        record = delete_measurement(session=session, actor=MANAGER, measurement_id=largest_id)
    assert (record.component_id, record.measurement_type.value) == (component_id, kind)
    assert len(_stored(db, component_id, kind)) == len(kept) - 1
    _exact(db)

    (ranged,) = audit("measurements.delete")
    assert (ranged["user"], ranged["component_id"], ranged["deleted"]) == ("mona", 1, deleted)
    assert (ranged["measurement_type"], ranged["start"]) == ("voltage", start.isoformat())
    (single,) = audit("measurement.delete")
    assert (single["measurement_id"], single["value"]) == (largest_id, record.value)


def test_bad_requests_name_what_is_wrong_and_delete_nothing(db):
    line = make_component(db, LINE)
    with db.write() as session:
        add_measurement(session=session, actor=MANAGER, component_id=line.id,
                        measurement_type="current", timestamp=END, value=5.0)  # fmt: skip
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        delete_measurements(
            session=session, actor=MANAGER, component_id=line.id, measurement_type="amps",
            start="2024-05-09T00:00:00Z", end="2024-05-01T00:00:00Z",
        )  # fmt: skip
    assert [p.field for p in refused.value.problems] == ["measurement_type"]
    with pytest.raises(InvalidInput, match="end: must be after start"), db.write() as session:
        delete_measurements(
            session=session, actor=MANAGER, component_id=line.id, measurement_type="current",
            start="2024-05-09T00:00:00Z", end="2024-05-01T00:00:00Z",
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="start"), db.write() as session:
        delete_measurements(
            session=session, actor=MANAGER, component_id=line.id, measurement_type="current",
            start="yesterday", end="2024-05-01T00:00:00Z",
        )  # fmt: skip
    with pytest.raises(UnknownComponent), db.write() as session:
        delete_measurements(
            session=session, actor=MANAGER, component_id=999, measurement_type="current",
            start="2024-05-01T00:00:00Z", end="2024-05-09T00:00:00Z",
        )  # fmt: skip
    gone = "measurement 999 does not exist"
    with pytest.raises(UnknownMeasurement, match=gone), db.write() as session:
        delete_measurement(session=session, actor=MANAGER, measurement_id=999)
    assert len(_stored(db, line.id, "current")) == 1


def test_deletions_racing_posts_and_level_changes_keep_the_rollups_exact(db):
    rng = random.Random(28)
    component = make_component(db, TRANSFORMER, name="Moving")
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    failures: list[BaseException] = []

    def post(index: int) -> None:
        with db.write() as session:
            add_measurement(
                session=session, actor=MANAGER, component_id=component.id,
                measurement_type="power", timestamp=t0 + timedelta(minutes=5 * index),
                value=float(rng.randint(1, 90)) / 30,
            )  # fmt: skip

    def remove(index: int) -> None:
        with db.write() as session:
            delete_measurements(
                session=session, actor=MANAGER, component_id=component.id,
                measurement_type="power", start=t0 + timedelta(minutes=5 * index),
                end=t0 + timedelta(minutes=5 * index + 12),
            )  # fmt: skip

    def change(level: float) -> None:
        with db.write() as session:
            update_component(
                session=session, actor=MANAGER, component_id=component.id,
                fields={**TRANSFORMER, "name": "Moving", "voltage_kv": level},
            )  # fmt: skip

    def run(steps) -> None:
        try:
            for action, argument in steps:
                _retried(action, argument)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    levels = [rng.choice([20.0, 110.0]) for _ in range(20)]
    threads = [
        threading.Thread(target=run, args=([(post, i) for i in range(60)],)),
        threading.Thread(target=run, args=([(remove, i) for i in range(0, 60, 4)],)),
        threading.Thread(target=run, args=([(change, level) for level in levels],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    with db.read() as session:
        measurements = session.scalar(select(func.count()).select_from(Measurement))
    assert 0 < measurements <= 60
    _exact(db)


def test_the_cli_deletes_a_range_and_says_how_many(db, capsys):
    line = make_component(db, LINE)
    for minutes in (0, 15, 30, 45):
        with db.write() as session:
            add_measurement(session=session, actor=MANAGER, component_id=line.id,
                            measurement_type="current", timestamp=END + timedelta(minutes=minutes),
                            value=100.0 + minutes)  # fmt: skip
    url = db.engine.url.render_as_string(hide_password=False)
    arguments = ["--database-url", url, "delete-measurements", "--component", str(line.id),
                 "--type", "current", "--start", "2024-05-08T00:10:00Z",
                 "--end", "2024-05-08T00:40:00Z"]  # fmt: skip
    assert main(arguments) == 0
    assert "2 current measurements of component" in capsys.readouterr().out
    assert [value for _ts, value in _stored(db, line.id, "current")] == [100.0, 145.0]
    _exact(db)
    backwards = [*arguments[:-3], "2024-05-08T00:40:00Z", "--end", "2024-05-08T00:10:00Z"]
    assert main(backwards) == 1
    assert "end: must be after start" in capsys.readouterr().err
