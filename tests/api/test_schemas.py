"""The API's component bodies carry the fields of core's table, no more and no fewer."""

from __future__ import annotations

from api.schemas import ComponentCreate, ComponentOut, ComponentUpdate
from core.grid.component_fields import COMPONENT_FIELDS, OPTIONAL_FIELDS

FIELDS = {*COMPONENT_FIELDS, *OPTIONAL_FIELDS}


def test_create_and_update_take_the_fields_of_core_s_table():
    assert set(ComponentCreate.model_fields) == FIELDS
    assert set(ComponentUpdate.model_fields) == FIELDS


def test_an_answer_shows_every_field_of_core_s_table():
    assert set(ComponentOut.model_fields) >= FIELDS


def test_every_field_of_a_component_body_says_what_it_holds(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for body in ("ComponentCreate", "ComponentUpdate", "ComponentOut"):
        undescribed = [
            name
            for name, field in schemas[body]["properties"].items()
            if name in FIELDS and not field.get("description")
        ]
        assert undescribed == [], f"{body}: {undescribed}"
