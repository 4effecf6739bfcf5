"""Deleting measurements: one by its id, or a component's range of one type, with the rollups
kept exact under their lock and the span's alarms re-evaluated. See docs/design.md#measurements."""

from __future__ import annotations

import time
from datetime import datetime

import polars as pl
from sqlalchemy import ColumnElement, delete
from sqlalchemy.orm import Session

from core import logs
from core.alarms.spans import SPANS_SCHEMA, reevaluate_spans
from core.domain import Actor, MeasurementType, require_manager
from core.errors import FieldProblem, InvalidInput, UnknownComponent, UnknownMeasurement
from core.measurements import rollups
from core.measurements.measurements import MeasurementRecord
from core.models import ID_RANGE, Component, Measurement
from core.timestamps import BadTimestamp, from_micros, micros_of, to_micros
from core.validation import FieldError, parse_choice


def _component(session: Session, component_id: int) -> Component:
    """The component, read after the rollups' lock: a type or level change holds it until
    it commits, so the key read here is the one its rollup rows carry."""
    component = session.get(Component, component_id) if component_id in ID_RANGE else None
    if component is None:
        raise UnknownComponent(component_id)
    return component


def _removed(
    session: Session, component: Component, measurement_type: str, where: list[ColumnElement[bool]]
) -> pl.DataFrame:
    """The rollup contributions of the rows ``where`` selects, computed by the database."""
    rows = rollups.bucket_stats(session, *where)
    level = rollups.level(component.voltage_kv)
    return pl.DataFrame(
        [(component.component_type, measurement_type, b, level, *stats) for b, *stats in rows],
        schema=rollups.SCHEMA,
        orient="row",
    )


def _delete(
    session: Session,
    component: Component,
    measurement_type: str,
    where: list[ColumnElement[bool]],
    span: tuple[int, int],
) -> int:
    """Delete the rows ``where`` selects (all within ``span``, first and last instant) and
    re-evaluate the alarms of their series there; how many rows there were."""
    removed = _removed(session, component, measurement_type, where)
    session.execute(delete(Measurement).where(*where))
    rollups.remove(session, removed)
    deleted = int(removed.get_column("sample_count").sum() or 0)
    if deleted:
        changed = [(component.id, measurement_type, *span)]
        reevaluate_spans(
            session, pl.DataFrame(changed, schema=SPANS_SCHEMA, orient="row"),
            why="measurements deleted",
        )  # fmt: skip
    return deleted


def delete_measurement(*, session: Session, actor: Actor, measurement_id: int) -> MeasurementRecord:
    """Delete one measurement by its id; what it was. ``UnknownMeasurement`` if none."""
    started = time.perf_counter()
    require_manager(actor, "delete measurements")
    rollups.lock(session)
    row = session.get(Measurement, measurement_id) if measurement_id in ID_RANGE else None
    if row is None:
        raise UnknownMeasurement(measurement_id)
    record = MeasurementRecord(
        id=row.id,
        component_id=row.component_id,
        measurement_type=MeasurementType(row.measurement_type),
        timestamp=from_micros(row.timestamp_us),
        value=row.value,
    )
    component = _component(session, row.component_id)
    session.expunge(row)
    at = to_micros(record.timestamp)
    _delete(
        session, component, record.measurement_type.value, [Measurement.id == record.id],
        (at, at),
    )  # fmt: skip
    logs.on_commit(
        session,
        "measurement.delete",
        user=actor.username,
        started=started,
        measurement_id=record.id,
        component_id=record.component_id,
        measurement_type=record.measurement_type.value,
        timestamp=record.timestamp.isoformat(),
        value=record.value,
    )
    return record


def _moment(field: str, moment: object) -> int:
    try:
        return micros_of(moment)
    except BadTimestamp as error:
        raise InvalidInput.single(field, str(error)) from None


def measurement_range(
    measurement_type: object, start: datetime | str, end: datetime | str
) -> tuple[MeasurementType, int, int]:
    """A range of one type to delete, checked: its type and its [start, end) in
    microseconds, or ``InvalidInput`` naming every bad field. Reads nothing."""
    problems: list[FieldProblem] = []
    kind: MeasurementType | None = None
    low = high = 0
    try:
        kind = parse_choice(measurement_type, MeasurementType)
    except FieldError as error:
        problems.append(FieldProblem("measurement_type", str(error)))
    for field, moment in (("start", start), ("end", end)):
        try:
            micros = _moment(field, moment)
        except InvalidInput as error:
            problems.extend(error.problems)
            continue
        low, high = (micros, high) if field == "start" else (low, micros)
    if not problems and low >= high:
        problems.append(FieldProblem("end", "must be after start"))
    if problems or kind is None:
        raise InvalidInput(problems)
    return kind, low, high


def delete_measurements(
    *,
    session: Session,
    actor: Actor,
    component_id: int,
    measurement_type: object,
    start: datetime | str,
    end: datetime | str,
) -> int:
    """Delete a component's measurements of one type in [start, end) (``measurement_range``);
    how many there were."""
    started = time.perf_counter()
    require_manager(actor, "delete measurements")
    kind, low, high = measurement_range(measurement_type, start, end)
    rollups.lock(session)
    component = _component(session, component_id)
    where = [
        Measurement.component_id == component_id,
        Measurement.measurement_type == kind.value,
        Measurement.timestamp_us >= low,
        Measurement.timestamp_us < high,
    ]
    deleted = _delete(session, component, kind.value, where, (low, high - 1))
    logs.on_commit(
        session,
        "measurements.delete",
        user=actor.username,
        started=started,
        component_id=component_id,
        measurement_type=kind.value,
        start=from_micros(low).isoformat(),
        end=from_micros(high).isoformat(),
        deleted=deleted,
    )
    return deleted
