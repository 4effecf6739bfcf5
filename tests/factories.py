"""Builders for test data, so each test says only what matters to it."""

from __future__ import annotations

from typing import Any

from core.db import Database
from core.domain import Actor, Role
from core.grid.components import ComponentRecord, create_component

MANAGER = Actor(username="mona", role=Role.MANAGER)
USER = Actor(username="ulf", role=Role.USER)

TRANSFORMER = {
    "name": "T1",
    "substation": "Riverside",
    "component_type": "transformer",
    "capacity_mva": 40,
    "voltage_kv": 110,
}
LINE = {
    "name": "L1",
    "substation": "Riverside",
    "component_type": "line",
    "length_km": 12.5,
    "voltage_kv": 20,
}
SWITCH = {"name": "S1", "substation": "Riverside", "component_type": "switch", "status": "closed"}


def make_component(
    db: Database, base: dict[str, Any] | None = None, **changes: Any
) -> ComponentRecord:
    fields = {**(base or TRANSFORMER), **changes}
    with db.write() as session:
        return create_component(session=session, actor=MANAGER, fields=fields)
