"""A manager's changes to limits (the defaults, one component's, one type and level's) and what
they read back; each audited, re-evaluating active alarms. See docs/design.md#limits-and-alarms."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import logs
from core.alarms.engine import reevaluate_active
from core.alarms.limits import (
    DEFAULTS,
    LimitOverride,
    _checked_number,
    get_defaults,
    note_change,
    replace_overrides,
    stored_overrides,
    validate_override,
)
from core.domain import Actor, ComponentType, require_manager
from core.errors import FieldProblem, InvalidInput, UnknownComponent
from core.models import ID_RANGE, Component, Limit, LimitDefault, utc_now
from core.validation import FieldError, parse_choice, parse_positive


def set_defaults(
    *, session: Session, actor: Actor, values: Mapping[str, object]
) -> dict[str, float]:
    """Set some defaults (by name; the others keep theirs) and re-evaluate active alarms."""
    started = time.perf_counter()
    require_manager(actor, "change limits")
    problems: list[FieldProblem] = []
    checked: dict[str, float] = {}
    for name, raw in values.items():
        setting = DEFAULTS.get(name)
        if setting is None:
            known = ", ".join(DEFAULTS)
            problems.append(FieldProblem(name, f"is not a limit default; they are: {known}"))
            continue
        try:
            checked[name] = _checked_number(name, raw, setting.low, setting.high)
        except InvalidInput as error:
            problems.extend(error.problems)
    merged = get_defaults(session=session) | checked
    for low_name, high_name in (
        ("voltage_warning_pct", "voltage_alarm_pct"),
        ("loading_warning_pct", "loading_alarm_pct"),
        ("current_warning_pct", "current_alarm_pct"),
    ):
        if merged[low_name] > merged[high_name]:
            problems.append(FieldProblem(low_name, f"must not be above {high_name}"))
    if "delay_samples" in checked and not checked["delay_samples"].is_integer():
        problems.append(FieldProblem("delay_samples", "must be a whole number of samples"))
    if problems:
        raise InvalidInput(problems)
    for name, value in checked.items():
        row = session.get(LimitDefault, name)
        if row is None:
            session.add(LimitDefault(name=name, value=value, updated_by=actor.username))
        else:
            row.value, row.updated_by, row.updated_at = value, actor.username, utc_now()
    note_change(session, actor.username)
    session.flush()
    reevaluate_active(session)
    logs.on_commit(session, "limits.defaults", user=actor.username, started=started, **checked)
    return merged


def _overrides(items: Sequence[Mapping[str, Any]]) -> list[LimitOverride]:
    problems: list[FieldProblem] = []
    checked: list[LimitOverride] = []
    for index, item in enumerate(items):
        try:
            checked.append(validate_override(item))
        except InvalidInput as error:
            problems += [
                FieldProblem(f"limits[{index}].{p.field}", p.reason) for p in error.problems
            ]
    kinds = [o.measurement_type for o in checked]
    for kind in {k for k in kinds if kinds.count(k) > 1}:
        problems.append(FieldProblem("limits", f"{kind.value} is given more than once"))
    if problems:
        raise InvalidInput(problems)
    return checked


def _component(session: Session, component_id: int) -> Component:
    found = session.get(Component, component_id) if component_id in ID_RANGE else None
    if found is None:
        raise UnknownComponent(component_id)
    return found


def get_component_limits(*, session: Session, component_id: int) -> list[LimitOverride]:
    """One component's overrides (an empty list: its type and level's, or the defaults)."""
    _component(session, component_id)
    return stored_overrides(session, component_id=component_id)


def set_component_limits(
    *,
    session: Session,
    actor: Actor,
    component_id: int,
    limits: Sequence[Mapping[str, Any]],
) -> list[LimitOverride]:
    """Replace one component's overrides (an empty list returns it to the defaults)."""
    started = time.perf_counter()
    require_manager(actor, "change limits")
    _component(session, component_id)
    checked = _overrides(limits)
    replace_overrides(session, checked, by=actor.username, component_id=component_id)
    reevaluate_active(session, [component_id])
    logs.on_commit(
        session, "limits.component", user=actor.username, started=started,
        component_id=component_id, measurement_types=[o.measurement_type.value for o in checked],
    )  # fmt: skip
    return checked


@dataclass(frozen=True, slots=True)
class LevelLimits:
    component_type: ComponentType
    voltage_kv: float
    limits: list[LimitOverride]


def _level(component_type: object, voltage_kv: object) -> tuple[str, float]:
    problems: list[FieldProblem] = []
    kind = level = None
    try:
        kind = parse_choice(component_type, ComponentType)
    except FieldError as error:
        problems.append(FieldProblem("component_type", str(error)))
    try:
        level = parse_positive(voltage_kv)
    except FieldError as error:
        problems.append(FieldProblem("voltage_kv", str(error)))
    if kind is ComponentType.SWITCH:
        problems.append(FieldProblem("component_type", "a switch has no voltage level"))
    if problems or kind is None or level is None:
        raise InvalidInput(problems)
    return kind.value, level


def list_level_limits(*, session: Session) -> list[LevelLimits]:
    """Every type and level that has overrides."""
    levels = session.execute(
        select(Limit.component_type, Limit.voltage_kv)
        .where(Limit.component_id.is_(None))
        .distinct()
        .order_by(Limit.component_type, Limit.voltage_kv)
    ).all()
    return [
        LevelLimits(ComponentType(kind), level, stored_overrides(session, level=(kind, level)))
        for kind, level in levels
        if kind is not None and level is not None
    ]


def set_level_limits(
    *,
    session: Session,
    actor: Actor,
    component_type: object,
    voltage_kv: object,
    limits: Sequence[Mapping[str, Any]],
) -> LevelLimits:
    """Replace the overrides of every component of one type at one voltage level."""
    started = time.perf_counter()
    require_manager(actor, "change limits")
    level = _level(component_type, voltage_kv)
    checked = _overrides(limits)
    replace_overrides(session, checked, by=actor.username, level=level)
    affected = session.scalars(
        select(Component.id).where(
            Component.component_type == level[0], Component.voltage_kv == level[1]
        )
    ).all()
    reevaluate_active(session, affected)
    logs.on_commit(
        session, "limits.level", user=actor.username, started=started,
        component_type=level[0], voltage_kv=level[1],
        measurement_types=[o.measurement_type.value for o in checked],
    )  # fmt: skip
    return LevelLimits(ComponentType(level[0]), level[1], checked)
