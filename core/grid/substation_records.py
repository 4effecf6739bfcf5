"""Substations as records: found or created by name for every component write, listed, renamed,
described, placed on the map and deleted when empty. See docs/design.md#substations."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import logs
from core.domain import Actor, require_manager
from core.errors import FieldProblem, InvalidInput, SubstationInUse, UnknownSubstation
from core.grid.component_fields import ComponentSpec
from core.grid.look_alikes import SUBSTATION_FIELDS, substation_problem
from core.models import Component, Substation
from core.validation import FieldError, name_key, parse_name, parse_text, unstorable_character

_CREATED = "gridboard.created_substations"
DESCRIPTION_LENGTH = 2000
# Positions are the network layout's: about [-1, 1]; a manager's may go a little further.
POSITION_LIMIT = 1000.0


def substation_for(session: Session, name: str, *, field: str = "substation") -> Substation:
    """The substation called ``name`` (as ``parse_name`` stores it), created when no stored one
    has its name key. A stored one that looks the same but is written otherwise is refused
    (``InvalidInput`` naming the stored spelling). The UNIQUE name key decides between two
    writers creating look-alikes at once: the second one finds the first one's row."""
    key = name_key(name)
    row = _by_key(session, key)
    if row is None:
        try:
            with session.begin_nested():
                row = Substation(name=name, name_key=key)
                session.add(row)
                session.flush()
        except IntegrityError:
            row = _by_key(session, key)
            if row is None:
                raise
        else:
            session.info.setdefault(_CREATED, []).append(name)
    if row.name != name:
        raise InvalidInput([substation_problem(field, name, row.name)])
    return row


def placement(session: Session, spec: ComponentSpec) -> dict[str, object]:
    """The columns that point a component with ``spec``'s names at its substations (unknown
    ones created) and its name key; called before the component's row changes, since creating
    a substation flushes the session."""
    end = spec.to_substation
    return {
        "substation_id": substation_for(session, spec.substation).id,
        "to_substation_id": substation_for(session, end, field="to_substation").id if end else None,
        "name_key": name_key(spec.name),
    }


def substation_ids(session: Session, specs: list[ComponentSpec]) -> dict[str, int]:
    """Each substation name ``specs`` use (both ends), with its id; unknown ones created."""
    ids: dict[str, int] = {}
    for spec in specs:
        for field in SUBSTATION_FIELDS:
            name = getattr(spec, field)
            if name and name not in ids:
                ids[name] = substation_for(session, name, field=field).id
    return ids


def _by_key(session: Session, key: str) -> Substation | None:
    return session.scalars(select(Substation).where(Substation.name_key == key)).one_or_none()


def created_in(session: Session) -> list[str]:
    """The substations this session's transaction created, in order (an answer says so)."""
    return list(session.info.get(_CREATED, []))


@dataclass(frozen=True, slots=True)
class SubstationRecord:
    id: int
    name: str
    description: str | None
    x: float | None
    y: float | None
    pinned: bool
    components: int  # standing in it
    line_ends: int  # other substations' lines ending here


def _counts(session: Session) -> tuple[dict[int, int], dict[int, int]]:
    own = session.execute(
        select(Component.substation_id, func.count()).group_by(Component.substation_id)
    )
    ends = session.execute(
        select(Component.to_substation_id, func.count())
        .where(Component.to_substation_id.is_not(None))
        .group_by(Component.to_substation_id)
    )
    return {k: int(n) for k, n in own if k is not None}, {k: int(n) for k, n in ends if k}


def _record(row: Substation, own: dict[int, int], ends: dict[int, int]) -> SubstationRecord:
    return SubstationRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        x=row.x,
        y=row.y,
        pinned=row.pinned,
        components=own.get(row.id, 0),
        line_ends=ends.get(row.id, 0),
    )


def list_substation_records(*, session: Session) -> list[SubstationRecord]:
    """Every substation by name, with its description, place and what it holds."""
    own, ends = _counts(session)
    rows = session.scalars(select(Substation).order_by(Substation.name)).all()
    return [_record(row, own, ends) for row in rows]


def _row(session: Session, name: str) -> Substation:
    name = name.strip()
    if not name or unstorable_character(name) is not None:
        raise UnknownSubstation(name)
    row = session.scalars(select(Substation).where(Substation.name == name)).one_or_none()
    if row is None:
        raise UnknownSubstation(name)
    return row


def get_substation_record(*, session: Session, name: str) -> SubstationRecord:
    row = _row(session, name)
    own, ends = _counts(session)
    return _record(row, own, ends)


def _position(x: object, y: object) -> tuple[float, float]:
    problems = []
    found = []
    for field, value in (("x", x), ("y", y)):
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or abs(number) > POSITION_LIMIT:
            problems.append(
                FieldProblem(field, f"must be a finite number within ±{POSITION_LIMIT:g}")
            )
        else:
            found.append(float(number))
    if problems:
        raise InvalidInput(problems)
    return found[0], found[1]


_UNCHANGED = object()


def update_substation(
    *,
    session: Session,
    actor: Actor,
    name: str,
    new_name: str | None = None,
    description: object = _UNCHANGED,
    position: tuple[object, object] | None = None,
    pinned: bool | None = None,
) -> SubstationRecord:
    """Rename, describe or place the substation ``name``. A rename moves every component in
    it and every line ending there at once; a look-alike of another substation is refused.
    ``pinned`` with a ``position`` keeps it there; ``pinned=False`` alone lets the layout
    place it again."""
    started = time.perf_counter()
    require_manager(actor, "change substations")
    row = _row(session, name)
    old_name = row.name
    if new_name is not None:
        try:
            wanted = parse_name(new_name)
        except FieldError as error:
            raise InvalidInput([FieldProblem("name", str(error))]) from None
        other = _by_key(session, name_key(wanted))
        if other is not None and other.id != row.id:
            raise InvalidInput([substation_problem("name", wanted, other.name)])
        row.name, row.name_key = wanted, name_key(wanted)
        session.execute(
            update(Component).where(Component.substation_id == row.id).values(substation=wanted)
        )
        session.execute(
            update(Component)
            .where(Component.to_substation_id == row.id)
            .values(to_substation=wanted)
        )
    if description is not _UNCHANGED:
        try:
            text = parse_text(description, max_length=DESCRIPTION_LENGTH) if description else None
        except FieldError as error:
            raise InvalidInput([FieldProblem("description", str(error))]) from None
        row.description = text
    if position is not None:
        row.x, row.y = _position(*position)
    if pinned is not None:
        if pinned and row.x is None:
            raise InvalidInput([FieldProblem("pinned", "give x and y to pin a substation")])
        row.pinned = pinned
        if not pinned and position is None:
            row.x = row.y = None  # placed again by the next layout
    session.flush()
    logs.on_commit(
        session,
        "substation.update",
        user=actor.username,
        started=started,
        substation_id=row.id,
        renamed_from=old_name if row.name != old_name else None,
    )
    return get_substation_record(session=session, name=row.name)


def delete_substation(*, session: Session, actor: Actor, name: str) -> None:
    """Delete an empty substation; ``SubstationInUse`` says what a non-empty one holds."""
    started = time.perf_counter()
    require_manager(actor, "delete substations")
    row = _row(session, name)
    held = or_(Component.substation_id == row.id, Component.to_substation_id == row.id)
    if session.scalar(select(func.count()).where(held)):
        record = get_substation_record(session=session, name=row.name)
        raise SubstationInUse(row.name, record.components, record.line_ends)
    session.delete(row)
    session.flush()
    logs.on_commit(
        session, "substation.delete", user=actor.username, started=started, substation_id=row.id
    )
