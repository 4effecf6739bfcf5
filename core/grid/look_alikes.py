"""Names that look like a stored one (``core.validation.name_key``): a substation spelt with
other characters, a component's name twice in one substation. Checked before a write; see
docs/design.md#names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from core.errors import DuplicateComponent, FieldProblem, InvalidInput
from core.grid.component_fields import ComponentSpec
from core.models import Component
from core.validation import name_key

SUBSTATION_FIELDS = ("substation", "to_substation")


def twin(name: str, existing: Iterable[str]) -> str | None:
    """The first of ``existing`` that looks like ``name`` but is written otherwise, if any."""
    key = name_key(name)
    return next((other for other in existing if other != name and name_key(other) == key), None)


def substation_problem(field: str, asked: str, stored: str) -> FieldProblem:
    return FieldProblem(
        field,
        f"{asked!r} looks the same as the existing substation {stored!r} but is written with "
        f"other characters; use {stored!r}",
    )


def stored_substations(session: Session, *, besides: int | None = None) -> list[str]:
    """Every substation name the components hold (their own and lines' other ends), those of
    the component ``besides`` left out."""
    others = Component.id != besides if besides is not None else Component.id.is_not(None)
    own = select(Component.substation).where(others)
    ends = select(Component.to_substation).where(others, Component.to_substation.is_not(None))
    return [str(name) for name in session.scalars(union(own, ends)) if name is not None]


def refuse_look_alikes(session: Session, spec: ComponentSpec, *, besides: int | None) -> None:
    """Refuse (``InvalidInput`` naming the stored spelling) a substation written otherwise than
    a stored one that looks the same, and (``DuplicateComponent``) a name that looks like
    another component's in the same substation. ``besides`` is the component being edited."""
    substations = stored_substations(session, besides=besides)
    problems = []
    for field in SUBSTATION_FIELDS:
        asked = getattr(spec, field)
        stored = twin(asked, substations) if asked else None
        if stored is not None:
            problems.append(substation_problem(field, asked, stored))
    if problems:
        raise InvalidInput(problems)
    others = Component.id != besides if besides is not None else Component.id.is_not(None)
    names = session.scalars(
        select(Component.name).where(Component.substation == spec.substation, others)
    )
    stored_name = twin(spec.name, names)
    if stored_name is not None:
        raise DuplicateComponent(stored_name, spec.substation)
