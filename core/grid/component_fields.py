"""Which fields each component type has, and the check of a component's fields that every
form, import and API call goes through. See docs/design.md#components."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from core.domain import ComponentType, SwitchStatus
from core.errors import FieldProblem, InvalidInput
from core.validation import (
    FieldError,
    name_key,
    parse_choice,
    parse_name,
    parse_positive,
    shown,
)

# The fields each type must have; every other type's field must be empty. The one table.
FIELDS_OF_TYPE: dict[ComponentType, tuple[str, ...]] = {
    ComponentType.TRANSFORMER: ("capacity_mva", "voltage_kv"),
    ComponentType.LINE: ("length_km", "voltage_kv"),
    ComponentType.SWITCH: ("status",),
}
# A line's other end: a field a type may have but need not (files without it still import).
TO_SUBSTATION = "to_substation"
# A line's rated current (A), from which its current limit derives (core/alarms/limits.py).
RATED_CURRENT = "rated_current_a"
OPTIONAL_OF_TYPE: dict[ComponentType, tuple[str, ...]] = {
    ComponentType.TRANSFORMER: (),
    ComponentType.LINE: (TO_SUBSTATION, RATED_CURRENT),
    ComponentType.SWITCH: (),
}
# The optional fields that are numbers; the others are names.
OPTIONAL_NUMBERS = (RATED_CURRENT,)
# The fields picked from a list; every other field of a type is a number.
CHOICE_FIELDS = {"status": SwitchStatus}


@dataclass(frozen=True, slots=True)
class FieldRange:
    """The values a number field may take, inclusive, in its unit."""

    low: float
    high: float
    unit: str

    def __str__(self) -> str:
        return f"{self.low:,g} to {self.high:,g} {self.unit}"


# Every number field's range: wider than any real grid's (the highest AC voltage in service is
# 1,150 kV; the largest transformers about 2,000 MVA), narrow enough to catch volts typed as
# kV or a digit too many.
NUMBER_RANGES: dict[str, FieldRange] = {
    "capacity_mva": FieldRange(0.001, 5_000.0, "MVA"),
    "voltage_kv": FieldRange(0.1, 1_200.0, "kV"),
    "length_km": FieldRange(0.001, 2_000.0, "km"),
}


def _every(table: Mapping[ComponentType, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(field for kind in ComponentType for field in table[kind]))


EXTRA_FIELDS = _every(FIELDS_OF_TYPE)  # capacity_mva, voltage_kv, length_km, status
OPTIONAL_FIELDS = _every(OPTIONAL_OF_TYPE)
# The columns of a components file, in the order the exercise gave them.
COMPONENT_FIELDS = ("name", "substation", "component_type", *EXTRA_FIELDS)


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """A valid component's fields: trimmed, typed, with the fields of other types empty."""

    name: str
    substation: str
    component_type: ComponentType
    capacity_mva: float | None = None
    voltage_kv: float | None = None
    length_km: float | None = None
    status: SwitchStatus | None = None
    to_substation: str | None = None
    rated_current_a: float | None = None

    def stored(self) -> dict[str, Any]:
        """The values of a ``components`` row (enumerations as their text)."""
        return {field: _text(getattr(self, field)) for field in SPEC_FIELDS}


# Every field a component is made of, in ComponentSpec's order (the rest derive from it).
SPEC_FIELDS = tuple(field.name for field in fields(ComponentSpec))


def _text(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _in_range(number: float, allowed: FieldRange) -> float:
    if not allowed.low <= number <= allowed.high:
        raise FieldError(f"must be from {allowed}, got {number:.12g} {allowed.unit}")
    return number


def validate_component(fields: Mapping[str, Any]) -> ComponentSpec:
    """Check every rule of docs/design.md at once; raise ``InvalidInput`` naming each broken one.

    Extra fields that belong to another type must be empty, so an import row or a form never
    silently drops a value the user typed.
    """
    problems: list[FieldProblem] = []
    values: dict[str, Any] = {}

    for key in ("name", "substation"):
        try:
            values[key] = parse_name(fields.get(key))
        except FieldError as error:
            problems.append(FieldProblem(key, str(error)))
    try:
        component_type = parse_choice(fields.get("component_type"), ComponentType)
    except FieldError as error:
        problems.append(FieldProblem("component_type", str(error)))
        raise InvalidInput(problems) from None

    needed = FIELDS_OF_TYPE[component_type]
    for key in EXTRA_FIELDS:
        raw = fields.get(key)
        if key not in needed:
            if not _is_blank(raw):
                problems.append(
                    FieldProblem(
                        key, f"must be empty for a {component_type.value}, got {shown(raw)}"
                    )
                )
            continue
        try:
            if key in CHOICE_FIELDS:
                values[key] = parse_choice(raw, CHOICE_FIELDS[key])
            else:
                values[key] = _in_range(parse_positive(raw), NUMBER_RANGES[key])
        except FieldError as error:
            # "required for a line" explains a missing value, not a wrong one
            reason = f"{error} (required for a {component_type.value})" if _is_blank(raw) else error
            problems.append(FieldProblem(key, str(reason)))

    for key in OPTIONAL_FIELDS:
        raw = fields.get(key)
        if _is_blank(raw):
            continue
        if key not in OPTIONAL_OF_TYPE[component_type]:
            problems.append(
                FieldProblem(key, f"must be empty for a {component_type.value}, got {shown(raw)}")
            )
            continue
        if key in OPTIONAL_NUMBERS:
            try:
                values[key] = parse_positive(raw)
            except FieldError as error:
                problems.append(FieldProblem(key, str(error)))
            continue
        try:
            values[key] = parse_name(raw)
        except FieldError as error:
            problems.append(FieldProblem(key, str(error)))
            continue
        if name_key(values[key]) == name_key(values.get("substation", "")):
            problems.append(
                FieldProblem(
                    key,
                    f"must be another substation than the line's own ({shown(values[key])}): "
                    "a line connects two substations",
                )
            )

    if problems:
        raise InvalidInput(problems)
    return ComponentSpec(component_type=component_type, **values)
