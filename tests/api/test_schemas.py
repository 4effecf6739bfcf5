"""The API's component bodies carry the fields of core's table, no more and no fewer; the
reference contract's enumerations are core's choices, in its upper case."""

from __future__ import annotations

from api.reference import schemas as reference
from api.schemas import ComponentCreate, ComponentOut, ComponentUpdate
from core import domain
from core.grid.component_fields import COMPONENT_FIELDS, OPTIONAL_FIELDS

FIELDS = {*COMPONENT_FIELDS, *OPTIONAL_FIELDS}


def test_create_and_update_take_the_fields_of_core_s_table():
    assert set(ComponentCreate.model_fields) == FIELDS
    assert set(ComponentUpdate.model_fields) == FIELDS


def test_an_answer_shows_every_field_of_core_s_table():
    assert set(ComponentOut.model_fields) >= FIELDS


def test_the_reference_s_enumerations_are_core_s_choices_in_upper_case():
    """``/b`` writes its own enumerations (the reference's names, which its schemas state as
    literals); a choice core gains or drops must be named there too, or a record with it
    could not be answered under ``/b``."""
    for name in ("ComponentType", "SwitchStatus", "MeasurementType"):
        ours, theirs = getattr(domain, name), getattr(reference, name)
        assert [member.value.upper() for member in ours] == [member.value for member in theirs]


def test_every_field_of_a_component_body_says_what_it_holds(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for body in ("ComponentCreate", "ComponentUpdate", "ComponentOut"):
        undescribed = [
            name
            for name, field in schemas[body]["properties"].items()
            if name in FIELDS and not field.get("description")
        ]
        assert undescribed == [], f"{body}: {undescribed}"
