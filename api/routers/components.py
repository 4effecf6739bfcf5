"""Components: list, read, create, update (partly), delete.
See docs/reference.md#the-http-api."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session

from api.deps import Caller, DatabaseDep, Reader, SessionDep, manager
from api.errors import BROKEN_RULE, NO_TOKEN, NOT_A_MANAGER, Answers
from api.schemas import ComponentCreate, ComponentOut, ComponentUpdate, ComponentWritten
from api.small_bodies import SmallBodyRoute
from core.domain import ComponentType
from core.grid.components import (
    PAGE_RANGE,
    ComponentRecord,
    ComponentSort,
    change_component,
    create_component,
    delete_component,
    get_component,
    list_components,
)
from core.grid.substation_records import created_in
from core.validation import choice_field

router = APIRouter(prefix="/components", tags=["components"], route_class=SmallBodyRoute)

READ_ANSWERS = NO_TOKEN
WRITE_ANSWERS: Answers = {**NO_TOKEN, **NOT_A_MANAGER, **BROKEN_RULE}


class ComponentListQuery(BaseModel):
    """The list's query parameters: FastAPI validates them as one model, not one by one."""

    name_search: str | None = Field(None, description="part of the name or substation, any case")
    substation: str | None = Field(None, description="exactly this substation")
    component_type: str | None = Field(None, description="transformer, line or switch (any case)")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, lt=PAGE_RANGE.stop)
    sort: ComponentSort = Field(ComponentSort.NAME, description="the dashboard's sort columns")
    descending: bool = False


_PAGE = TypeAdapter(list[ComponentOut])


@router.get("", response_model=list[ComponentOut], responses=READ_ANSWERS)
async def list_all(
    caller: Reader, database: DatabaseDep, query: Annotated[ComponentListQuery, Query()]
) -> Response:
    types: frozenset[ComponentType] = frozenset()
    if query.component_type is not None and query.component_type.strip():
        types = frozenset({choice_field("component_type", query.component_type, ComponentType)})

    def page(session: Session) -> bytes:
        found = list_components(
            session=session,
            search=query.name_search or "",
            component_types=types,
            substations=frozenset({query.substation}) if query.substation else frozenset(),
            sort=query.sort,
            descending=query.descending,
            offset=query.offset,
            limit=query.limit,
        )
        return _PAGE.dump_json([ComponentOut.of(record) for record in found.items])

    # The caller, the page and its JSON in one thread-pool call, serialised once (FastAPI
    # would validate the returned models again first); the schema still names ComponentOut.
    return Response(await caller.read(database, page), media_type="application/json")


@router.get(
    "/{component_id}",
    response_model=ComponentOut,
    responses={**READ_ANSWERS, 404: {"description": "no such component"}},
)
def read_one(component_id: int, caller: Reader, session: SessionDep) -> ComponentOut:
    caller.actor(session)
    return ComponentOut.of(get_component(session=session, component_id=component_id))


@router.post(
    "",
    response_model=ComponentWritten,
    status_code=201,
    responses={**WRITE_ANSWERS, 409: {"description": "the name is taken in that substation"}},
)
def create(
    body: ComponentCreate,
    caller: Annotated[Caller, Depends(manager("create components"))],
    database: DatabaseDep,
) -> ComponentWritten:
    with database.write() as session:
        record = create_component(
            session=session, actor=caller.actor(session), fields=body.model_dump(mode="json")
        )
        created = created_in(session)
    return _written(record, created)


@router.put(
    "/{component_id}",
    response_model=ComponentWritten,
    responses={
        **WRITE_ANSWERS,
        404: {"description": "no such component"},
        409: {"description": "the new name is taken in that substation"},
    },
)
def update(
    component_id: int,
    body: ComponentUpdate,
    caller: Annotated[Caller, Depends(manager("edit components"))],
    database: DatabaseDep,
) -> ComponentWritten:
    """Change the given fields. A new type empties the old type's fields, as on the
    dashboard's edit page; the new type's fields come with it."""
    changes = body.model_dump(mode="json", include=body.model_fields_set)
    with database.write() as session:
        record = change_component(
            session=session,
            actor=caller.actor(session),
            component_id=component_id,
            changes=changes,
        )
        created = created_in(session)
    return _written(record, created)


def _written(record: ComponentRecord, created: list[str]) -> ComponentWritten:
    return ComponentWritten(**ComponentOut.of(record).model_dump(), created_substations=created)


@router.delete(
    "/{component_id}",
    status_code=204,
    response_class=Response,
    responses={**WRITE_ANSWERS, 404: {"description": "no such component"}},
)
def delete(
    component_id: int,
    caller: Annotated[Caller, Depends(manager("delete components"))],
    database: DatabaseDep,
) -> Response:
    """Delete a component with its measurements."""
    with database.write() as session:
        delete_component(session=session, actor=caller.actor(session), component_id=component_id)
    return Response(status_code=204)
