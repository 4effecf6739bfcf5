"""The single write path for measurements: every add, import and seed goes through here.

Rows arrive as a Polars frame of valid, typed values (see ``MEASUREMENT_SCHEMA``) and are
written in the caller's transaction with the backend's fastest bulk path: ``executemany`` on
SQLite, ``COPY`` into a staging table on PostgreSQL. Keys that already exist are skipped or,
on request, overwritten, and counted either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

MEASUREMENT_SCHEMA: dict[str, pl.DataType] = {
    "component_id": pl.Int64(),
    "measurement_type": pl.String(),
    "timestamp_us": pl.Int64(),
    "value": pl.Float64(),
}
KEY = ["component_id", "measurement_type", "timestamp_us"]
_COLUMNS = ", ".join(MEASUREMENT_SCHEMA)
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


def empty_measurements() -> pl.DataFrame:
    return pl.DataFrame(schema=MEASUREMENT_SCHEMA)


def write_measurements(session: Session, frame: pl.DataFrame, *, overwrite: bool) -> WriteCounts:
    """Write ``frame`` (unique keys, valid values) in the session's transaction."""
    if frame.is_empty():
        return WriteCounts()
    frame = frame.select(pl.col(name).cast(dtype) for name, dtype in MEASUREMENT_SCHEMA.items())
    connection = session.connection()
    driver = _driver(session)
    if connection.dialect.name == "postgresql":
        return _write_postgresql(driver, frame, overwrite=overwrite)
    return _write_sqlite(driver, frame, overwrite=overwrite)


def append_new_measurements(session: Session, frame: pl.DataFrame) -> int:
    """Insert rows known to be new (a fresh seed): no lookup of existing keys."""
    frame = frame.select(pl.col(name).cast(dtype) for name, dtype in MEASUREMENT_SCHEMA.items())
    connection = session.connection()
    driver = _driver(session)
    if connection.dialect.name == "postgresql":
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY measurements ({_COLUMNS}) FROM STDIN") as copy,
        ):
            for row in frame.iter_rows():
                copy.write_row(row)
        return frame.height
    _insert_sqlite(driver, frame)
    return frame.height


def _driver(session: Session) -> Any:
    """The DB-API connection under the session's transaction (sqlite3 or psycopg)."""
    driver = session.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the session's connection is closed")
    return driver


def _batches(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, _BATCH_ROWS):
        yield frame.slice(start, _BATCH_ROWS)


def _insert_sqlite(driver: Any, frame: pl.DataFrame) -> None:
    cursor = driver.cursor()
    try:
        for batch in _batches(frame):
            cursor.executemany(
                f"INSERT INTO measurements ({_COLUMNS}) VALUES (?, ?, ?, ?)",
                batch.iter_rows(),
            )
    finally:
        cursor.close()


def _existing_keys_sqlite(driver: Any, frame: pl.DataFrame) -> pl.DataFrame:
    """The keys of ``frame`` that are already stored, read through the unique index."""
    bounds = frame.select(
        pl.col("timestamp_us").min().alias("low"), pl.col("timestamp_us").max().alias("high")
    ).row(0)
    ids = frame.get_column("component_id").unique().sort().to_list()
    found: list[tuple[int, str, int]] = []
    cursor = driver.cursor()
    try:
        for start in range(0, len(ids), _IN_LIST_CHUNK):
            chunk = ids[start : start + _IN_LIST_CHUNK]
            marks = ", ".join("?" * len(chunk))
            cursor.execute(
                "SELECT component_id, measurement_type, timestamp_us FROM measurements "
                f"WHERE component_id IN ({marks}) AND timestamp_us BETWEEN ? AND ?",
                [*chunk, *bounds],
            )
            found.extend(cursor.fetchall())
    finally:
        cursor.close()
    return pl.DataFrame(
        found,
        schema={name: MEASUREMENT_SCHEMA[name] for name in KEY},
        orient="row",
    )


def _write_sqlite(driver: Any, frame: pl.DataFrame, *, overwrite: bool) -> WriteCounts:
    existing = _existing_keys_sqlite(driver, frame)
    if existing.is_empty():
        _insert_sqlite(driver, frame)
        return WriteCounts(inserted=frame.height)
    new_rows = frame.join(existing, on=KEY, how="anti")
    old_rows = frame.join(existing, on=KEY, how="semi")
    _insert_sqlite(driver, new_rows)
    if not overwrite:
        return WriteCounts(inserted=new_rows.height, skipped=old_rows.height)
    cursor = driver.cursor()
    try:
        for batch in _batches(old_rows.select("value", *KEY)):
            cursor.executemany(
                "UPDATE measurements SET value = ? WHERE component_id = ? "
                "AND measurement_type = ? AND timestamp_us = ?",
                batch.iter_rows(),
            )
    finally:
        cursor.close()
    return WriteCounts(inserted=new_rows.height, overwritten=old_rows.height)


def _write_postgresql(driver: Any, frame: pl.DataFrame, *, overwrite: bool) -> WriteCounts:
    with driver.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS measurement_staging ("
            "component_id integer NOT NULL, measurement_type varchar(16) NOT NULL, "
            "timestamp_us bigint NOT NULL, value double precision NOT NULL"
            ") ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE measurement_staging")
        with cursor.copy(f"COPY measurement_staging ({_COLUMNS}) FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
        cursor.execute(
            "SELECT count(*) FROM measurement_staging s JOIN measurements m "
            "ON m.component_id = s.component_id AND m.measurement_type = s.measurement_type "
            "AND m.timestamp_us = s.timestamp_us"
        )
        row = cursor.fetchone()
        existing = int(row[0]) if row else 0
        action = "DO UPDATE SET value = EXCLUDED.value" if overwrite else "DO NOTHING"
        cursor.execute(
            f"INSERT INTO measurements ({_COLUMNS}) SELECT {_COLUMNS} FROM measurement_staging "
            f"ON CONFLICT (component_id, measurement_type, timestamp_us) {action}"
        )
        cursor.execute("TRUNCATE measurement_staging")
    inserted = frame.height - existing
    if overwrite:
        return WriteCounts(inserted=inserted, overwritten=existing)
    return WriteCounts(inserted=inserted, skipped=existing)
