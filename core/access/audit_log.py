"""Reading the audit log (managers only): who did what, filtered, a page at a time, newest
first, and in batches for a CSV file. ``core.logs`` writes it. See docs/design.md#audit-log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Select, String, func, literal, or_, select
from sqlalchemy.orm import Session

from core.domain import Actor, require_manager
from core.errors import FieldProblem, InvalidInput
from core.models import AuditEntry
from core.timestamps import to_utc

PAGE_RANGE = range(2**62)
# The columns of the CSV file: stable machine names, times in UTC.
AUDIT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "time": pl.Datetime("us", "UTC"),
    "actor": pl.String,
    "event": pl.String,
    "target": pl.String,
    "outcome": pl.String,
    "fields": pl.String,
}
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries to read: by actor and event (exact), at or after ``since`` and before
    ``until``, and ``text`` found in the actor, event, target or fields (any case)."""

    actor: str = ""
    event: str = ""
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""

    def conditions(self) -> list[ColumnElement[bool]]:
        if self.since and self.until and self.until <= self.since:
            raise InvalidInput([FieldProblem("until", "must be after since")])
        found: list[ColumnElement[bool]] = []
        if self.actor:
            found.append(AuditEntry.actor == self.actor)
        if self.event:
            found.append(AuditEntry.event == self.event)
        if self.since:
            found.append(AuditEntry.at >= to_utc(self.since))
        if self.until:
            found.append(AuditEntry.at < to_utc(self.until))
        if self.text.strip():
            escaped = self.text.strip().lower()
            for special in ("\\", "%", "_"):
                escaped = escaped.replace(special, "\\" + special)
            pattern = literal(f"%{escaped}%", String())
            columns = (AuditEntry.actor, AuditEntry.event, AuditEntry.target, AuditEntry.fields)
            found.append(or_(*(func.lower(c).like(pattern, escape="\\") for c in columns)))
        return found


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    actor: str
    event: str
    target: str
    outcome: str
    fields: str  # JSON


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditRecord]
    total: int
    offset: int
    limit: int


_COLUMNS = (
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.event,
    AuditEntry.target,
    AuditEntry.outcome,
    AuditEntry.fields,
)


def list_audit_entries(
    *, session: Session, actor: Actor, where: AuditFilter, offset: int = 0, limit: int = 50
) -> AuditPage:
    """One page of the entries ``where`` matches, newest first, and how many match."""
    require_manager(actor, "read the audit log")
    if limit < 1 or offset not in PAGE_RANGE or limit not in PAGE_RANGE:
        raise InvalidInput(
            [FieldProblem("page", "limit must be >= 1 and offset >= 0 (both below 2**62)")]
        )
    conditions = where.conditions()
    rows = session.execute(
        select(*_COLUMNS)
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
    return AuditPage([AuditRecord(*row) for row in rows], int(total or 0), offset, limit)


def audit_choices(*, session: Session, actor: Actor) -> tuple[list[str], list[str]]:
    """The actors and the events the log holds, for the filters' lists."""
    require_manager(actor, "read the audit log")
    actors = session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor))
    events = session.scalars(select(AuditEntry.event).distinct().order_by(AuditEntry.event))
    return list(actors), list(events)


def audit_frames(*, session: Session, actor: Actor, where: AuditFilter) -> Iterator[pl.DataFrame]:
    """Every entry ``where`` matches, newest first, as frames of ``AUDIT_SCHEMA`` read a
    batch at a time (``core.streamed_files.csv_chunks`` writes them as one CSV file). The
    caller's role and the filter are checked here, before the first frame is asked for."""
    require_manager(actor, "read the audit log")
    ordered = (
        select(*_COLUMNS)
        .where(*where.conditions())
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    return _frames(session, ordered)


def _frames(session: Session, ordered: Select[*tuple[Any, ...]]) -> Iterator[pl.DataFrame]:
    for rows in session.execute(ordered.execution_options(yield_per=_BATCH)).partitions():
        yield pl.DataFrame([tuple(row) for row in rows], schema=AUDIT_SCHEMA, orient="row")
