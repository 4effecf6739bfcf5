"""Alarms: list them (filters, pages), read one with its transitions, acknowledge and shelve
one (managers). See docs/reference.md#alarms-and-limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.alarm_schemas import AcknowledgeBody, AlarmDetail, AlarmOut, AlarmPageOut, ShelveBody
from api.deps import Caller, DatabaseDep, Reader, SessionDep, manager
from api.errors import BROKEN_RULE, NO_TOKEN, NOT_A_MANAGER, Answers
from api.small_bodies import SmallBodyRoute
from core.alarms.records import (
    UnknownAlarm,
    acknowledge_alarm,
    get_alarm,
    list_alarms,
    parse_kind,
    shelve_alarm,
)
from core.alarms.states import ACTIVE, OPEN, AlarmState
from core.domain import ComponentType
from core.errors import FieldProblem, InvalidInput
from core.grid.components import PAGE_RANGE
from core.models import ID_RANGE
from core.timestamps import BadTimestamp, parse_timestamp
from core.validation import FieldError, parse_choice

router = APIRouter(prefix="/alarms", tags=["alarms"], route_class=SmallBodyRoute)

READ_ANSWERS: Answers = {
    **NO_TOKEN,
    404: {"description": "no such alarm"},
}
WRITE_ANSWERS: Answers = {
    **READ_ANSWERS,
    **NOT_A_MANAGER,
    409: {"description": "the alarm's state does not allow it (a closed alarm, say)"},
    **BROKEN_RULE,
}
# The groups of states a list may ask for, besides one state by name.
STATE_GROUPS: dict[str, tuple[AlarmState, ...]] = {
    "open": OPEN,
    "active": ACTIVE,
    "all": tuple(AlarmState),
}


def _states(text: str) -> tuple[AlarmState, ...]:
    if text in STATE_GROUPS:
        return STATE_GROUPS[text]
    try:
        return (parse_choice(text, AlarmState),)
    except FieldError:
        choices = ", ".join([*STATE_GROUPS, *AlarmState])
        raise InvalidInput.single("state", f"must be one of {choices}, got {text!r}") from None


def _moment(name: str, text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text.strip())
    except BadTimestamp as error:
        raise InvalidInput([FieldProblem(name, str(error))]) from None


def _alarm_id(alarm_id: int) -> int:
    if alarm_id not in ID_RANGE:
        raise UnknownAlarm(alarm_id)
    return alarm_id


@router.get("", response_model=AlarmPageOut, responses=READ_ANSWERS)
def list_all(
    caller: Reader,
    session: SessionDep,
    state: Annotated[str, Query(description="open (default), active, all, or one state")] = "open",
    kind: Annotated[str | None, Query(description="high_alarm, loading_warning, ...")] = None,
    substation: str | None = None,
    component_type: Annotated[str | None, Query(description="transformer, line or switch")] = None,
    component_id: int | None = None,
    start: Annotated[str | None, Query(description="raised at or after (ISO 8601)")] = None,
    end: Annotated[str | None, Query(description="raised before (ISO 8601)")] = None,
    include_shelved: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, lt=PAGE_RANGE.stop)] = 0,
) -> AlarmPageOut:
    """Alarms, active first, then alarms before warnings, then oldest first."""
    problems: list[FieldProblem] = []
    found: dict[str, Any] = {}
    checks: dict[str, Callable[[], object]] = {
        "states": lambda: _states(state),
        "kind": lambda: parse_kind(kind) if kind is not None else None,
        "component_type": lambda: (
            parse_choice(component_type, ComponentType) if component_type is not None else None
        ),
        "start": lambda: _moment("start", start),
        "end": lambda: _moment("end", end),
    }
    for name, check in checks.items():
        try:
            found[name] = check()
        except InvalidInput as error:
            problems.extend(error.problems)
        except FieldError as error:
            problems.append(FieldProblem(name, str(error)))
    if problems:
        raise InvalidInput(problems)
    caller.actor(session)
    page = list_alarms(
        session=session, substation=substation, include_shelved=include_shelved,
        component_id=component_id, offset=offset, limit=limit, **found,
    )  # fmt: skip
    return AlarmPageOut(total=page.total, alarms=[AlarmOut.of(a) for a in page.alarms])


@router.get("/{alarm_id}", response_model=AlarmDetail, responses=READ_ANSWERS)
def read_one(alarm_id: int, caller: Reader, session: SessionDep) -> AlarmDetail:
    """One alarm and every transition it went through (who, when, comment)."""
    caller.actor(session)
    return AlarmDetail.of(get_alarm(session=session, alarm_id=_alarm_id(alarm_id)))


@router.post("/{alarm_id}/acknowledge", response_model=AlarmDetail, responses=WRITE_ANSWERS)
def acknowledge(
    alarm_id: int,
    body: AcknowledgeBody,
    caller: Annotated[Caller, Depends(manager("acknowledge alarms"))],
    database: DatabaseDep,
) -> AlarmDetail:
    """Active unacknowledged -> active acknowledged; cleared unacknowledged -> closed."""
    with database.write() as session:
        record = acknowledge_alarm(
            session=session,
            actor=caller.actor(session),
            alarm_id=_alarm_id(alarm_id),
            comment=body.comment,
        )
    return AlarmDetail.of(record)


@router.post("/{alarm_id}/shelve", response_model=AlarmDetail, responses=WRITE_ANSWERS)
def shelve(
    alarm_id: int,
    body: ShelveBody,
    caller: Annotated[Caller, Depends(manager("shelve alarms"))],
    database: DatabaseDep,
) -> AlarmDetail:
    """Hide the alarm from the lists until `until` (at most 7 days), for a reason."""
    until = _moment("until", body.until)
    assert until is not None
    with database.write() as session:
        record = shelve_alarm(
            session=session, actor=caller.actor(session), alarm_id=_alarm_id(alarm_id), until=until,
            reason=body.reason,
        )  # fmt: skip
    return AlarmDetail.of(record)
