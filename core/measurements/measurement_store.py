"""The write path every add (``write_one``) and import (``write_measurements``) takes: keys
already stored are skipped or overwritten, the rollups kept exact, in the caller's
transaction. See docs/architecture.md#storage."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import polars as pl
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.alarms.single import Watched, watch_columns
from core.driver_statements import DriverStatement, driver_connection
from core.errors import UnknownComponent
from core.measurements import rollups
from core.models import ID_RANGE, Component, Measurement

MEASUREMENT_SCHEMA: dict[str, pl.DataType] = {
    "component_id": pl.Int64(),
    "measurement_type": pl.String(),
    "timestamp_us": pl.Int64(),
    "value": pl.Float64(),
}
KEY = ["component_id", "measurement_type", "timestamp_us"]
COLUMNS = ", ".join(MEASUREMENT_SCHEMA)
_BATCH_ROWS = 100_000
_IN_LIST_CHUNK = 500


@dataclass(frozen=True, slots=True)
class WriteCounts:
    inserted: int = 0
    skipped: int = 0
    overwritten: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.skipped + self.overwritten


@dataclass(frozen=True, slots=True)
class Rating:
    """What a component's measurements are checked against (``core.measurements.plausibility``)."""

    component_type: str
    voltage_kv: float | None
    capacity_mva: float | None


@dataclass(frozen=True, slots=True)
class OneWrite:
    """What ``write_one`` did: the stored row's id, and whether it was new or replaced."""

    id: int
    counts: WriteCounts
    component: Watched  # its key and what the alarms' quick look reads with it


_table = cast(Table, Measurement.__table__)
_measurements = _table.c
_components = Component.__table__.c
# The component's key (its rollup rows are keyed by type and level) and, in the same query,
# what the alarms' quick look needs (``core.alarms.single``).
_COMPONENT_KEY = DriverStatement(
    select(
        _components.component_type,
        _components.voltage_kv,
        *watch_columns(bindparam("component_id"), bindparam("measurement_type")),
    ).where(_components.id == bindparam("component_id"))
)
_STORED_ONE = DriverStatement(
    select(_measurements.id, _measurements.value).where(
        *(_measurements[name] == bindparam(name) for name in KEY)
    )
)
# bindparam names differ from the columns': SQLAlchemy keeps those for the SET clause.
_UPDATE = DriverStatement(
    update(_table)
    .values(value=bindparam("new_value"))
    .where(*(_measurements[name] == bindparam(f"key_{name}") for name in KEY))
)
_UPDATE_COLUMNS = ["new_value", *(f"key_{name}" for name in KEY)]
_INSERT = DriverStatement(
    insert(_table).values({name: bindparam(name) for name in MEASUREMENT_SCHEMA})
)


# A feed posts measurements one by one: its statements are built and compiled once, and run
# on the driver's cursor (``DriverStatement``), skipping SQLAlchemy's work per statement.
@functools.cache
def _insert_new(dialect: str) -> DriverStatement:
    upsert = sqlite_insert if dialect == "sqlite" else pg_insert
    return DriverStatement(
        upsert(_table)
        .values({name: bindparam(name) for name in MEASUREMENT_SCHEMA})
        .on_conflict_do_nothing(index_elements=KEY)
        .returning(_measurements.id)
    )


def write_one(
    session: Session,
    component_id: int,
    measurement_type: str,
    timestamp_us: int,
    value: float,
    *,
    overwrite: bool,
    check: Callable[[Rating], None] | None = None,
) -> OneWrite | None:
    """Write one valid measurement and fold it into its rollup, in plain statements: the
    stored row, or ``None`` when its key is stored and ``overwrite`` is false.
    ``UnknownComponent`` if there is no such component; ``check`` sees the component's
    rating, as read under the lock, before anything is written (and may refuse it)."""
    # The lock before the component's key: a type or level change (or a deletion) holds it
    # until it commits, so the key read after it is the one the rollup row must carry (read
    # before it, PostgreSQL's next statement would still see the old key).
    rollups.lock(session)
    found = (
        _COMPONENT_KEY.first(
            session, {"component_id": component_id, "measurement_type": measurement_type}
        )
        if component_id in ID_RANGE
        else None
    )
    if found is None:
        raise UnknownComponent(component_id)
    component = Watched(*found)
    component_type, voltage_kv = component.component_type, component.voltage_kv
    if check is not None:
        check(Rating(component_type, voltage_kv, component.capacity_mva))
    row = {
        "component_id": component_id,
        "measurement_type": measurement_type,
        "timestamp_us": timestamp_us,
        "value": value,
    }
    stored = _STORED_ONE.first(session, row) if overwrite else None
    if stored is None:
        added = _insert_new(session.get_bind().dialect.name).first(session, row)
        if added is None:
            return None
        rollups.add_one(session, component_type, voltage_kv, measurement_type, timestamp_us, value)
        return OneWrite(added.id, WriteCounts(inserted=1), component)
    _UPDATE.run(session, {"new_value": value, **{f"key_{name}": row[name] for name in KEY}})
    rollups.add_one(session, component_type, voltage_kv, measurement_type, timestamp_us, value)
    old = pl.DataFrame(
        [(component_type, rollups.level(voltage_kv), measurement_type, timestamp_us, stored.value)],
        schema=["component_type", "voltage_kv", "measurement_type", "timestamp_us", "value"],
        orient="row",
    )
    rollups.remove(session, rollups.contributions(old))
    return OneWrite(stored.id, WriteCounts(overwritten=1), component)


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col(name).cast(dtype) for name, dtype in MEASUREMENT_SCHEMA.items())


def write_measurements(session: Session, frame: pl.DataFrame, *, overwrite: bool) -> WriteCounts:
    """Write ``frame`` (unique keys, valid values, known components) in the session's
    transaction, skipping or overwriting keys that are already stored."""
    if frame.is_empty():
        return WriteCounts()
    frame = _typed(frame)
    rollups.lock(session)
    driver = driver_connection(session)
    backend = _BACKENDS[session.get_bind().dialect.name]
    existing = backend.stored(driver, frame)
    new_rows = frame.join(existing, on=KEY, how="anti") if existing.height else frame
    replaced_old = existing.head(0)
    replaced_new = frame.head(0)
    if overwrite and existing.height:
        replaced_new = frame.join(existing.select(KEY), on=KEY, how="semi")
        replaced_old = existing
    backend.write(session, new_rows, replaced_new, overwrite)
    types = component_types(session, frame)
    rollups.add(
        session, rollups.contributions(_typed_rows(pl.concat([new_rows, replaced_new]), types))
    )
    rollups.remove(session, rollups.contributions(_typed_rows(replaced_old, types)))
    if overwrite:
        return WriteCounts(inserted=new_rows.height, overwritten=existing.height)
    return WriteCounts(inserted=new_rows.height, skipped=existing.height)


def component_types(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    ids = frame.get_column("component_id").unique().to_list()
    rows: list[tuple[int, str, float]] = []
    for start in range(0, len(ids), _IN_LIST_CHUNK):
        chunk = ids[start : start + _IN_LIST_CHUNK]
        found = session.execute(
            select(Component.id, Component.component_type, Component.voltage_kv).where(
                Component.id.in_(chunk)
            )
        )
        rows.extend(
            (component_id, kind, rollups.level(volts)) for component_id, kind, volts in found
        )
    return pl.DataFrame(
        rows,
        schema={"component_id": pl.Int64, "component_type": pl.String, "voltage_kv": pl.Float64},
        orient="row",
    )


def _typed_rows(frame: pl.DataFrame, types: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the component type and level of each row, as
    ``rollups.contributions`` wants."""
    return frame.join(types, on="component_id", how="inner").select(
        "component_type", "voltage_kv", "measurement_type", "timestamp_us", "value"
    )


def _batches(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, _BATCH_ROWS):
        yield frame.slice(start, _BATCH_ROWS)


def _insert_sqlite(session: Session, frame: pl.DataFrame) -> None:
    for batch in _batches(frame):
        _INSERT.run_many(session, list(MEASUREMENT_SCHEMA), batch.iter_rows())


def _update_sqlite(session: Session, frame: pl.DataFrame) -> None:
    for batch in _batches(frame.select("value", *KEY)):
        _UPDATE.run_many(session, _UPDATE_COLUMNS, batch.iter_rows())


def copy_csv(cursor: Any, table: str, frame: pl.DataFrame) -> None:
    """COPY ``frame`` into ``table`` as CSV text that Polars writes (fast, exact floats)."""
    with cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN WITH (FORMAT csv)") as copy:
        for batch in _batches(frame):
            copy.write(batch.write_csv(include_header=False))


def _existing_sqlite(driver: Any, frame: pl.DataFrame) -> pl.DataFrame:
    """The stored rows (with their current values) whose keys ``frame`` has."""
    low, high = frame.select(
        pl.col("timestamp_us").min().alias("low"), pl.col("timestamp_us").max().alias("high")
    ).row(0)
    ids = frame.get_column("component_id").unique().sort().to_list()
    found: list[tuple[int, str, int, float]] = []
    cursor = driver.cursor()
    try:
        for start in range(0, len(ids), _IN_LIST_CHUNK):
            chunk = ids[start : start + _IN_LIST_CHUNK]
            marks = ", ".join("?" * len(chunk))
            cursor.execute(
                f"SELECT {COLUMNS} FROM measurements "
                f"WHERE component_id IN ({marks}) AND timestamp_us BETWEEN ? AND ?",
                [*chunk, low, high],
            )
            found.extend(cursor.fetchall())
    finally:
        cursor.close()
    stored = pl.DataFrame(found, schema=MEASUREMENT_SCHEMA, orient="row")
    return stored.join(frame.select(KEY), on=KEY, how="semi")


def _stage_postgresql(driver: Any, frame: pl.DataFrame) -> pl.DataFrame:
    """COPY ``frame`` into the staging table; return the stored rows it collides with."""
    with driver.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS measurement_staging ("
            "component_id integer NOT NULL, measurement_type varchar(16) NOT NULL, "
            "timestamp_us bigint NOT NULL, value double precision NOT NULL"
            ") ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE measurement_staging")
        copy_csv(cursor, "measurement_staging", frame)
        cursor.execute(
            "SELECT m.component_id, m.measurement_type, m.timestamp_us, m.value "
            "FROM measurement_staging s JOIN measurements m "
            "ON m.component_id = s.component_id AND m.measurement_type = s.measurement_type "
            "AND m.timestamp_us = s.timestamp_us"
        )
        found = cursor.fetchall()
    return pl.DataFrame(found, schema=MEASUREMENT_SCHEMA, orient="row")


def _write_sqlite(
    session: Session, new_rows: pl.DataFrame, replaced: pl.DataFrame, overwrite: bool
) -> None:
    _insert_sqlite(session, new_rows)
    if overwrite:
        _update_sqlite(session, replaced)


def _write_postgresql(
    session: Session, new_rows: pl.DataFrame, replaced: pl.DataFrame, overwrite: bool
) -> None:
    """The staged rows (``stored`` COPYed them all) go in with one statement."""
    action = "DO UPDATE SET value = EXCLUDED.value" if overwrite else "DO NOTHING"
    with driver_connection(session).cursor() as cursor:
        cursor.execute(
            f"INSERT INTO measurements ({COLUMNS}) SELECT {COLUMNS} FROM measurement_staging "
            f"ON CONFLICT (component_id, measurement_type, timestamp_us) {action}"
        )
        cursor.execute("TRUNCATE measurement_staging")


@dataclass(frozen=True, slots=True)
class _Backend:
    # The stored rows (with their current values) whose keys the frame has.
    stored: Callable[[Any, pl.DataFrame], pl.DataFrame]
    # Insert the new rows and, when overwriting, update the replaced ones.
    write: Callable[[Session, pl.DataFrame, pl.DataFrame, bool], None]


_BACKENDS = {
    "sqlite": _Backend(stored=_existing_sqlite, write=_write_sqlite),
    "postgresql": _Backend(stored=_stage_postgresql, write=_write_postgresql),
}
