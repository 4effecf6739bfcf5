"""Stored measurements read back for evaluation, a component's series at a time in index order
on the driver's cursor, in pages of bounded size. See docs/architecture.md#alarms."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import polars as pl
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.domain import MeasurementType
from core.driver_statements import DriverStatement
from core.models import Measurement

# Measurement types in the order of the measurements' key index (component, type, time).
TYPES_IN_KEY_ORDER = tuple(sorted(kind.value for kind in MeasurementType))

# One series from a time on, a page at a time: a range of the key index each, two columns.
_SERIES_PAGE = DriverStatement(
    select(Measurement.timestamp_us, Measurement.value)
    .where(
        Measurement.component_id == bindparam("component_id"),
        Measurement.measurement_type == bindparam("measurement_type"),
        Measurement.timestamp_us >= bindparam("since_us"),
    )
    .order_by(Measurement.timestamp_us)
    .limit(bindparam("page_rows"))
)


def _series(
    session: Session, component_id: int, kind: str, since_us: int, page_rows: int
) -> Iterator[pl.DataFrame]:
    while True:
        rows = _SERIES_PAGE.rows(
            session,
            {"component_id": component_id, "measurement_type": kind, "since_us": since_us,
             "page_rows": page_rows},
        )  # fmt: skip
        if not rows:
            return
        yield series_frame(component_id, kind, rows)
        if len(rows) < page_rows:
            return
        since_us = rows[-1][0] + 1


def series_frame(component_id: int, kind: str, rows: Sequence[Any]) -> pl.DataFrame:
    """One series' ``(timestamp_us, value)`` rows, as the driver returns them, as samples
    (component_id, measurement_type, timestamp_us, value): two columns built from lists, the
    key columns as literals."""
    return pl.DataFrame(
        {
            "timestamp_us": pl.Series([row[0] for row in rows], dtype=pl.Int64),
            "value": pl.Series([row[1] for row in rows], dtype=pl.Float64),
        }
    ).select(
        pl.lit(component_id, pl.Int64).alias("component_id"),
        pl.lit(kind, pl.String).alias("measurement_type"),
        "timestamp_us",
        "value",
    )


def stored_pages(
    session: Session,
    component_id: int,
    since_us: int,
    page_rows: int,
    types: Collection[str] = TYPES_IN_KEY_ORDER,
) -> Iterator[pl.DataFrame]:
    """A component's measurements of ``types`` from ``since_us`` in index order (type, time),
    in pages of at most ``page_rows`` rows (short series share a page), so memory stays flat
    however long its history."""
    parts: list[pl.DataFrame] = []
    held = 0
    for kind in (k for k in TYPES_IN_KEY_ORDER if k in types):
        for part in _series(session, component_id, kind, since_us, page_rows):
            if parts and held + part.height > page_rows:
                yield pl.concat(parts)
                parts, held = [], 0
            parts.append(part)
            held += part.height
    if parts:
        yield pl.concat(parts)
