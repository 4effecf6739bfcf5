"""Substations: list, read, rename, describe, place, delete an empty one; the single-line
diagram of one, as SVG. See docs/reference.md#the-http-api."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from api.deps import Caller, DatabaseDep, Reader, SessionDep, manager
from api.errors import BROKEN_RULE, NO_TOKEN, NOT_A_MANAGER, Answers
from api.schemas import SubstationChange, SubstationOut
from api.small_bodies import SmallBodyRoute
from core.diagram import substation_diagram
from core.errors import FieldProblem, InvalidInput
from core.grid.substation_records import (
    SubstationRecord,
    delete_substation,
    get_substation_record,
    list_substation_records,
    update_substation,
)

router = APIRouter(prefix="/substations", tags=["substations"], route_class=SmallBodyRoute)

WRITE_ANSWERS: Answers = {**NO_TOKEN, **NOT_A_MANAGER, **BROKEN_RULE}
SVG = "image/svg+xml"
DIAGRAM_ANSWERS: Answers = {
    200: {"content": {SVG: {}}, "description": "the diagram, as the Substation page draws it"},
    **NO_TOKEN,
    404: {"description": "no component is in or connected to that substation"},
}


@router.get("/{name:path}/diagram.svg", response_class=Response, responses=DIAGRAM_ANSWERS)
async def diagram(name: str, caller: Reader, database: DatabaseDep) -> Response:
    """The substation's single-line diagram (every role; a read token too; a name holding a
    ``/`` is matched whole): a busbar per voltage level, its transformers and lines, its
    switches, the latest values beside each."""

    def draw(session: Session) -> bytes:
        return substation_diagram(session=session, name=name).encode()

    return Response(await caller.read(database, draw), media_type=SVG)


@router.get("", response_model=list[SubstationOut], responses=NO_TOKEN)
def list_all(caller: Reader, session: SessionDep) -> list[SubstationOut]:
    """Every substation by name: its description, place on the map and what it holds."""
    caller.actor(session)
    return [_out(record) for record in list_substation_records(session=session)]


@router.get(
    "/{name:path}",
    response_model=SubstationOut,
    responses={**NO_TOKEN, 404: {"description": "no such substation"}},
)
def read_one(name: str, caller: Reader, session: SessionDep) -> SubstationOut:
    caller.actor(session)
    return _out(get_substation_record(session=session, name=name))


@router.put(
    "/{name:path}",
    response_model=SubstationOut,
    responses={**WRITE_ANSWERS, 404: {"description": "no such substation"}},
)
def change(
    name: str,
    body: SubstationChange,
    caller: Annotated[Caller, Depends(manager("change substations"))],
    database: DatabaseDep,
) -> SubstationOut:
    """Rename (every component and line end moves with it), describe, place or pin a
    substation; only the fields given change. ``x`` and ``y`` come together."""
    given = body.model_fields_set
    if len(given & {"x", "y"}) == 1:
        missing = "y" if "x" in given else "x"
        raise InvalidInput([FieldProblem(missing, "give x and y together")])
    position = (body.x, body.y) if "x" in given else None
    extra: dict[str, Any] = {}
    if "description" in given:
        extra["description"] = body.description
    with database.write() as session:
        record = update_substation(
            session=session,
            actor=caller.actor(session),
            name=name,
            new_name=body.name,
            position=position,
            pinned=body.pinned,
            **extra,
        )
    return _out(record)


@router.delete(
    "/{name:path}",
    status_code=204,
    response_class=Response,
    responses={
        **WRITE_ANSWERS,
        404: {"description": "no such substation"},
        409: {"description": "it still holds components or line ends (the answer says which)"},
    },
)
def delete(
    name: str,
    caller: Annotated[Caller, Depends(manager("delete substations"))],
    database: DatabaseDep,
) -> Response:
    """Delete an empty substation."""
    with database.write() as session:
        delete_substation(session=session, actor=caller.actor(session), name=name)
    return Response(status_code=204)


def _out(record: SubstationRecord) -> SubstationOut:
    return SubstationOut.model_validate(record, from_attributes=True)
