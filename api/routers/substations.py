"""Substations: the single-line diagram of one, as SVG. See docs/reference.md#the-http-api."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from api.deps import DatabaseDep, ReadingCaller, read_as
from api.errors import NO_TOKEN, Answers
from api.small_bodies import SmallBodyRoute
from core.diagram import substation_diagram

router = APIRouter(prefix="/substations", tags=["substations"], route_class=SmallBodyRoute)

SVG = "image/svg+xml"
DIAGRAM_ANSWERS: Answers = {
    200: {"content": {SVG: {}}, "description": "the diagram, as the Substation page draws it"},
    **NO_TOKEN,
    404: {"description": "no component is in or connected to that substation"},
}


@router.get("/{name:path}/diagram.svg", response_class=Response, responses=DIAGRAM_ANSWERS)
async def diagram(name: str, caller: ReadingCaller, database: DatabaseDep) -> Response:
    """The substation's single-line diagram (every role; a read token too; a name holding a
    ``/`` is matched whole): a busbar per voltage level, its transformers and lines, its
    switches, the latest values beside each."""

    def draw(session: Session) -> bytes:
        return substation_diagram(session=session, name=name).encode()

    return Response(await read_as(database, caller, draw), media_type=SVG)
