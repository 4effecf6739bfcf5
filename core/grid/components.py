"""The grid inventory: list, search, read, create, update and delete components. The fields
of each type and their check are core/grid/component_fields.py. See docs/design.md#components."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, String, delete, false, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from core import logs
from core.db import SQLITE_FOLD
from core.domain import Actor, ComponentType, SwitchStatus, require_manager
from core.errors import DuplicateComponent, FieldProblem, InvalidInput, UnknownComponent
from core.grid.component_fields import (
    EXTRA_FIELDS,
    FIELDS_OF_TYPE,
    OPTIONAL_FIELDS,
    OPTIONAL_OF_TYPE,
    ComponentSpec,
    validate_component,
)
from core.grid.look_alikes import refuse_component_twin
from core.grid.network import place_new_substations
from core.grid.substation_records import placement
from core.measurements import rollups
from core.models import ID_RANGE, Component, Measurement, Substation
from core.validation import (
    choice_field,
    normal_name,
    unstorable_character,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentRecord(ComponentSpec):
    """A stored component: a ``ComponentSpec``'s fields, its id and who changed it when."""

    id: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, row: Component) -> ComponentRecord:
        return cls.of_values([getattr(row, column.key) for column in RECORD_COLUMNS])

    @classmethod
    def of_values(cls, values: Sequence[Any]) -> ComponentRecord:
        """A record from a row of ``RECORD_COLUMNS`` (a page of the list), by position, each
        value put in its field's slot: a result row's attributes by name, or the fields
        passed by keyword (a dict per record), cost more than the rest of building it."""
        given = list(values)
        kind, status = given[_TYPE_AT], given[_STATUS_AT]
        given[_TYPE_AT] = _TYPES.get(kind) or ComponentType(kind)
        given[_STATUS_AT] = (_STATUSES.get(status) or SwitchStatus(status)) if status else None
        record = object.__new__(cls)
        for put, value in zip(_PUT, given, strict=True):
            put(record, value)
        return record


_TYPES = {kind.value: kind for kind in ComponentType}
_STATUSES = {status.value: status for status in SwitchStatus}
_RECORD_FIELDS = tuple(field.name for field in fields(ComponentRecord))
_TYPE_AT, _STATUS_AT = _RECORD_FIELDS.index("component_type"), _RECORD_FIELDS.index("status")
# Each field's slot setter, in the fields' order (the class is frozen: its __setattr__ refuses).
_PUT = tuple(getattr(ComponentRecord, name).__set__ for name in _RECORD_FIELDS)
# The table's columns in the order of ComponentRecord's fields (``of_values``).
RECORD_COLUMNS = tuple(Component.__table__.c[name] for name in _RECORD_FIELDS)


def _apply(row: Component, spec: ComponentSpec, placed: Mapping[str, object]) -> None:
    for column, value in (spec.stored() | dict(placed)).items():
        setattr(row, column, value)


class ComponentSort(StrEnum):
    NAME = "name"
    SUBSTATION = "substation"
    COMPONENT_TYPE = "component_type"
    VOLTAGE_KV = "voltage_kv"
    CAPACITY_MVA = "capacity_mva"
    LENGTH_KM = "length_km"
    UPDATED_AT = "updated_at"
    ID = "id"  # the order of creation, as the reference service lists them


@dataclass(frozen=True, slots=True)
class ComponentPage:
    items: list[ComponentRecord]
    total: int
    counts_by_type: dict[ComponentType, int]
    offset: int
    limit: int


# Offsets and limits both databases take (64-bit integers), with room to add them up.
PAGE_RANGE = range(2**62)


def of_component(column: Any, component_id: int) -> ColumnElement[bool]:
    """``column == component_id``, or nothing at all for an id no component can have."""
    return column == component_id if component_id in ID_RANGE else false()


def check_page(offset: int, limit: int) -> None:
    if limit < 1 or offset not in PAGE_RANGE or limit not in PAGE_RANGE:
        raise InvalidInput(
            [FieldProblem("page", "limit must be >= 1 and offset >= 0 (both below 2**62)")]
        )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Fold(FunctionElement[str]):
    """Case folding for every letter: PostgreSQL's lower(), a Python casefold on SQLite (whose
    lower() leaves "É" as it is). Both sides of a search go through the same function, so an
    exact name always finds itself."""

    type = String()
    inherit_cache = True


@compiles(_Fold)
def _fold_default(element: _Fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_Fold, "sqlite")
def _fold_sqlite(element: _Fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


# Casefolding makes a text at most three times longer, so a search longer than this matches
# no name of at most 200 characters (and SQLite refuses LIKE patterns over 50 kB).
_LONGEST_SEARCH = 3 * 200


def _search_condition(search: str) -> ColumnElement[bool]:
    if len(search) > _LONGEST_SEARCH:
        return false()
    # ASCII folds the same with the built-in lower() everywhere, which is faster on SQLite.
    fold: Any = func.lower if search.isascii() else _Fold
    pattern = fold(literal(f"%{_escape_like(search)}%", String()))
    return or_(
        fold(Component.name).like(pattern, escape="\\"),
        fold(Component.substation).like(pattern, escape="\\"),
    )


@dataclass(frozen=True, slots=True)
class ComponentFilter:
    """What the components list is narrowed to; empty sets mean "all"."""

    search: str = ""
    component_types: frozenset[ComponentType] = frozenset()
    substations: frozenset[str] = frozenset()

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        asked = [self.search, *self.substations]
        if any(unstorable_character(text) is not None for text in asked):
            # No name holds a control character (and PostgreSQL cannot even be sent NUL).
            return [false()]
        search = unicodedata.normalize("NFKC", self.search).strip()  # as names are stored
        if search:
            found.append(_search_condition(search))
        if self.component_types:
            found.append(Component.component_type.in_(sorted(self.component_types)))
        if self.substations:
            found.append(Component.substation.in_(sorted(self.substations)))
        return found


def list_components(
    *,
    session: Session,
    search: str = "",
    component_types: frozenset[ComponentType] = frozenset(),
    substations: frozenset[str] = frozenset(),
    sort: ComponentSort = ComponentSort.NAME,
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> ComponentPage:
    """One page of components matching the filters, the total, and the count of each type.

    ``search`` matches name or substation, case-insensitively, as plain text (``%`` and ``_``
    are not wildcards). Three queries in all, whatever the page size.
    """
    check_page(offset, limit)
    conditions = ComponentFilter(search, component_types, substations).conditions()
    sort_column = getattr(Component, ComponentSort(sort).value)
    # Empty values (a line has no capacity) sort last in both directions, on every backend.
    order = (sort_column.desc() if descending else sort_column.asc()).nulls_last()
    # The columns, not ORM objects: a page is read, never changed, and loading up to a
    # thousand objects into the session cost more than the query (bench/JOURNAL.md).
    rows = session.execute(
        select(*RECORD_COLUMNS)
        .where(*conditions)
        .order_by(order, Component.name, Component.substation, Component.id)
        .offset(offset)
        .limit(limit)
    ).all()
    counted = session.execute(
        select(Component.component_type, func.count())
        .where(*conditions)
        .group_by(Component.component_type)
    )
    counts = {str(kind): int(number) for kind, number in counted}
    by_type = {kind: counts.get(kind.value, 0) for kind in ComponentType}
    return ComponentPage(
        items=[ComponentRecord.of_values(row) for row in rows],
        total=sum(by_type.values()),
        counts_by_type=by_type,
        offset=offset,
        limit=limit,
    )


def list_substations(*, session: Session) -> list[str]:
    """Every substation's name, from the substations table (one with no components yet too)."""
    return list(session.scalars(select(Substation.name).order_by(Substation.name)))


def _get_row(session: Session, component_id: int) -> Component:
    if component_id not in ID_RANGE:
        raise UnknownComponent(component_id)
    row = session.get(Component, component_id)
    if row is None:
        raise UnknownComponent(component_id)
    return row


def get_component(*, session: Session, component_id: int) -> ComponentRecord:
    return ComponentRecord.of(_get_row(session, component_id))


def find_component(*, session: Session, name: str, substation: str) -> ComponentRecord:
    name, substation = normal_name(name), normal_name(substation)
    if unstorable_character(name + substation) is not None:
        raise UnknownComponent(f"{name!r} in {substation!r}")
    row = session.scalars(
        select(Component).where(Component.name == name, Component.substation == substation)
    ).one_or_none()
    if row is None:
        raise UnknownComponent(f"{name!r} in {substation!r}")
    return ComponentRecord.of(row)


def _flush_unique(session: Session, row: Component) -> None:
    """Flush ``row``; a name key taken in its substation by a writer that committed a moment
    ago (after ``refuse_component_twin`` looked) is a ``DuplicateComponent`` too."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        if "uq_components_" in str(error.orig) or "UNIQUE" in str(error.orig):
            raise DuplicateComponent(row.name, row.substation) from None
        raise


def create_component(
    *, session: Session, actor: Actor, fields: Mapping[str, Any]
) -> ComponentRecord:
    """Create a component from raw field values (a form, a CSV row) after validating them."""
    started = time.perf_counter()
    require_manager(actor, "create components")
    spec = validate_component(fields)
    placed = placement(session, spec)
    refuse_component_twin(session, spec, placed, besides=None)
    row = Component(created_by=actor.username, updated_by=actor.username)
    _apply(row, spec, placed)
    session.add(row)
    _flush_unique(session, row)
    place_new_substations(session)
    logs.on_commit(
        session, "component.create", user=actor.username, started=started, component_id=row.id
    )
    return ComponentRecord.of(row)


def update_component(
    *, session: Session, actor: Actor, component_id: int, fields: Mapping[str, Any]
) -> ComponentRecord:
    """Replace a component's fields; a type change empties the fields of the old type."""
    started = time.perf_counter()
    require_manager(actor, "edit components")
    spec = validate_component(fields)
    rollups.lock(session)
    row = _get_row(session, component_id)
    placed = placement(session, spec)
    refuse_component_twin(session, spec, placed, besides=component_id)
    old_type, old_level = row.component_type, rollups.level(row.voltage_kv)
    _apply(row, spec, placed)
    row.updated_by = actor.username
    _flush_unique(session, row)
    place_new_substations(session)
    new_level = rollups.level(row.voltage_kv)
    if (old_type, old_level) != (row.component_type, new_level):
        # Its measurements now count for the new type and level in rollups (and so in new
        # reports).
        moved = rollups.component_contributions(session, component_id, old_type, old_level)
        rollups.remove(session, moved)
        rollups.add(
            session,
            moved.with_columns(
                pl.lit(row.component_type).alias("component_type"),
                pl.lit(new_level).alias("voltage_kv"),
            ),
        )
    logs.on_commit(
        session, "component.update", user=actor.username, started=started, component_id=row.id
    )
    return ComponentRecord.of(row)


def change_component(
    *, session: Session, actor: Actor, component_id: int, changes: Mapping[str, Any]
) -> ComponentRecord:
    """Change only the fields given in ``changes`` (a partial update, as the API's PUT takes
    it). A new type empties the old type's fields, as ``update_component`` does, so only the
    new type's fields given with it count; the same type keeps its stored fields."""
    current = get_component(session=session, component_id=component_id)
    asked = changes.get("component_type") or current.component_type
    new_type = choice_field("component_type", asked, ComponentType)
    merged: dict[str, Any] = {
        "name": current.name,
        "substation": current.substation,
        "component_type": new_type.value,
    }
    if new_type is current.component_type:
        kept = (*FIELDS_OF_TYPE[new_type], *OPTIONAL_OF_TYPE[new_type])
        merged |= {key: value for key, value in current.stored().items() if key in kept}
    changeable = ("name", "substation", *EXTRA_FIELDS, *OPTIONAL_FIELDS)
    merged |= {key: value for key, value in changes.items() if key in changeable}
    return update_component(session=session, actor=actor, component_id=component_id, fields=merged)


def count_measurements(*, session: Session, component_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(of_component(Measurement.component_id, component_id))
        )
        or 0
    )


def delete_component(*, session: Session, actor: Actor, component_id: int) -> int:
    """Delete a component and its measurements; return how many measurements went with it."""
    started = time.perf_counter()
    require_manager(actor, "delete components")
    rollups.lock(session)
    row = _get_row(session, component_id)
    removed = count_measurements(session=session, component_id=component_id)
    gone = rollups.component_contributions(
        session, component_id, row.component_type, row.voltage_kv
    )
    session.execute(delete(Measurement).where(Measurement.component_id == component_id))
    session.delete(row)
    session.flush()
    rollups.remove(session, gone)
    logs.on_commit(
        session,
        "component.delete",
        user=actor.username,
        started=started,
        component_id=component_id,
        measurements=removed,
    )
    return removed
