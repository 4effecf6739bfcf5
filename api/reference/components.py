"""``/b/components``: the reference's list (by id), create, strict PUT and delete, over the
same core services and rules as ``/components``.
See docs/reference.md#moving-from-the-reference-service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from api.deps import Caller, DatabaseDep, Reader, manager
from api.reference.route import ReferenceRoute, as_validation_errors
from api.reference.schemas import (
    AnyCaseType,
    ComponentCreate,
    ComponentResponse,
    ComponentUpdate,
    component_response,
    core_fields,
)
from core.domain import ComponentType as CoreType
from core.grid.components import (
    PAGE_RANGE,
    ComponentSort,
    change_component,
    create_component,
    delete_component,
    list_components,
)

router = APIRouter(prefix="/components", route_class=ReferenceRoute)
_PAGE = TypeAdapter(list[ComponentResponse])


@router.get("", response_model=list[ComponentResponse])
async def list_all(
    caller: Reader,
    database: DatabaseDep,
    name_search: Annotated[str | None, Query(description="part of the name or substation")] = None,
    substation: Annotated[str | None, Query(description="exactly this substation")] = None,
    component_type: Annotated[AnyCaseType | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, lt=PAGE_RANGE.stop)] = 0,
) -> Response:
    """Components by id, as the reference lists them."""
    types = frozenset({CoreType(component_type.lower())}) if component_type else frozenset()

    def page(session: Session) -> bytes:
        found = list_components(
            session=session,
            search=name_search or "",
            component_types=types,
            substations=frozenset({substation}) if substation else frozenset(),
            sort=ComponentSort.ID,
            offset=offset,
            limit=limit,
        )
        return _PAGE.dump_json([component_response(record) for record in found.items])

    return Response(await caller.read(database, page), media_type="application/json")


# The reference's own bodies, one per type, as /docs shows them.
CREATE_EXAMPLES = {
    "transformer": {"value": {
        "name": "T1", "substation": "Riverside", "component_type": "TRANSFORMER",
        "capacity_mva": 40, "voltage_kv": 110,
    }},
    "line": {"value": {
        "name": "L1", "substation": "Riverside", "component_type": "LINE",
        "length_km": 12.5, "voltage_kv": 20,
    }},
    "switch": {"value": {
        "name": "S1", "substation": "Riverside", "component_type": "SWITCH", "status": "OPEN",
    }},
}  # fmt: skip
UPDATE_EXAMPLES = {
    "rename": {"value": {"component_type": "TRANSFORMER", "name": "T1-new"}},
    "open a switch": {"value": {"component_type": "SWITCH", "status": "OPEN"}},
}


@router.post("", response_model=ComponentResponse, status_code=201)
def create(
    body: Annotated[ComponentCreate, Body(openapi_examples=CREATE_EXAMPLES)],
    caller: Annotated[Caller, Depends(manager("create components"))],
    database: DatabaseDep,
) -> Any:
    given = core_fields(body)
    with as_validation_errors(given), database.write() as session:
        record = create_component(session=session, actor=caller.actor(session), fields=given)
    return component_response(record)


@router.put("/{id}", response_model=ComponentResponse)
def update(
    id: int,
    body: Annotated[ComponentUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
    caller: Annotated[Caller, Depends(manager("edit components"))],
    database: DatabaseDep,
) -> Any:
    """The type's fields replace the stored ones; a field left out keeps its value while the
    type stays (a new type needs its fields), where the reference answered 500."""
    given = core_fields(body)
    with as_validation_errors(given), database.write() as session:
        record = change_component(
            session=session, actor=caller.actor(session), component_id=id, changes=given
        )
    return component_response(record)


@router.delete("/{id}", status_code=204, response_class=Response)
def delete(
    id: int,
    caller: Annotated[Caller, Depends(manager("delete components"))],
    database: DatabaseDep,
) -> Response:
    with database.write() as session:
        delete_component(session=session, actor=caller.actor(session), component_id=id)
    return Response(status_code=204)
