"""Names that look like a stored one (``core.validation.name_key``): a substation spelt with
other characters, a component's name twice in one substation. The database's UNIQUE name keys
refuse them; this module says so in words. See docs/design.md#names."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import DuplicateComponent, FieldProblem
from core.grid.component_fields import ComponentSpec
from core.models import Component

SUBSTATION_FIELDS = ("substation", "to_substation")


def substation_problem(field: str, asked: str, stored: str) -> FieldProblem:
    return FieldProblem(
        field,
        f"{asked!r} looks the same as the existing substation {stored!r} but is written with "
        f"other characters; use {stored!r}",
    )


def refuse_component_twin(
    session: Session, spec: ComponentSpec, placed: Mapping[str, object], *, besides: int | None
) -> None:
    """Refuse (``DuplicateComponent`` naming the stored spelling) a name that another
    component of the substation has, or a look-alike of it; ``besides`` is the one edited.
    Checked before the row changes, for the words; the UNIQUE name key refuses a racing one."""
    others = Component.id != besides if besides is not None else Component.id.is_not(None)
    stored = session.scalar(
        select(Component.name).where(
            Component.substation_id == placed["substation_id"],
            Component.name_key == placed["name_key"],
            others,
        )
    )
    if stored is not None:
        raise DuplicateComponent(stored, spec.substation)
