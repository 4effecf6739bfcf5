"""Limits: a component's overrides (``/components/{id}/limits``), and the defaults with the
overrides per type and voltage level (``/limits``). See docs/reference.md#alarms-and-limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.alarm_schemas import (
    ComponentLimits,
    LevelLimitsOut,
    LimitOut,
    LimitSettings,
    LimitSettingsOut,
)
from api.deps import Caller, DatabaseDep, Reader, SessionDep, manager
from api.errors import NO_TOKEN, NOT_A_MANAGER, Answers
from api.small_bodies import SmallBodyRoute
from core.alarms.limit_changes import (
    LevelLimits,
    get_component_limits,
    list_level_limits,
    set_component_limits,
    set_defaults,
    set_level_limits,
)
from core.alarms.limits import get_defaults
from core.errors import UnknownComponent
from core.models import ID_RANGE

router = APIRouter(tags=["limits"], route_class=SmallBodyRoute)

READ_ANSWERS: Answers = {
    **NO_TOKEN,
}
WRITE_ANSWERS: Answers = {
    **READ_ANSWERS,
    **NOT_A_MANAGER,
    422: {"description": "a limit breaks a rule; every problem is listed"},
}


def _component_id(component_id: int) -> int:
    if component_id not in ID_RANGE:
        raise UnknownComponent(component_id)
    return component_id


def _level(level: LevelLimits) -> LevelLimitsOut:
    return LevelLimitsOut(
        component_type=level.component_type.value,
        voltage_kv=level.voltage_kv,
        limits=[LimitOut.of(item) for item in level.limits],
    )


@router.get(
    "/components/{component_id}/limits",
    response_model=list[LimitOut],
    responses={**READ_ANSWERS, 404: {"description": "no such component"}},
)
def read_component_limits(component_id: int, caller: Reader, session: SessionDep) -> list[LimitOut]:
    """The component's own overrides; an empty list means its level's or the defaults."""
    caller.actor(session)
    found = get_component_limits(session=session, component_id=_component_id(component_id))
    return [LimitOut.of(item) for item in found]


@router.put(
    "/components/{component_id}/limits",
    response_model=list[LimitOut],
    responses={**WRITE_ANSWERS, 404: {"description": "no such component"}},
)
def write_component_limits(
    component_id: int,
    body: ComponentLimits,
    caller: Annotated[Caller, Depends(manager("change limits"))],
    database: DatabaseDep,
) -> list[LimitOut]:
    """Replace the component's overrides; its active alarms are re-evaluated against them."""
    with database.write() as session:
        stored = set_component_limits(
            session=session, actor=caller.actor(session), component_id=_component_id(component_id),
            limits=[item.model_dump() for item in body.limits],
        )  # fmt: skip
    return [LimitOut.of(item) for item in stored]


@router.get("/limits", response_model=LimitSettingsOut, responses=READ_ANSWERS)
def read_limits(caller: Reader, session: SessionDep) -> LimitSettingsOut:
    """The defaults derived from the grid model, and the overrides per type and level."""
    caller.actor(session)
    return LimitSettingsOut(
        defaults=get_defaults(session=session),
        levels=[_level(level) for level in list_level_limits(session=session)],
    )


@router.put("/limits", response_model=LimitSettingsOut, responses=WRITE_ANSWERS)
def write_limits(
    body: LimitSettings,
    caller: Annotated[Caller, Depends(manager("change limits"))],
    database: DatabaseDep,
) -> LimitSettingsOut:
    """Change some defaults and replace the overrides of the levels given (all or nothing);
    active alarms are re-evaluated."""
    with database.write() as session:
        actor = caller.actor(session)
        if body.defaults:
            set_defaults(session=session, actor=actor, values=body.defaults)
        for level in body.levels:
            set_level_limits(
                session=session, actor=actor, component_type=level.component_type,
                voltage_kv=level.voltage_kv, limits=[item.model_dump() for item in level.limits],
            )  # fmt: skip
        return LimitSettingsOut(
            defaults=get_defaults(session=session),
            levels=[_level(level) for level in list_level_limits(session=session)],
        )
