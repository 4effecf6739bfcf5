"""A page whose database file was deleted while the app ran says so and claims no success."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import make_url

from tests.pages.conftest import texts

PAGE = "pages/manage-components.py"


def test_creating_a_component_after_the_database_file_was_deleted(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    path = Path(str(make_url(app_db.url).database))
    path.unlink()
    fields = {field.label: field for field in [*at.text_input, *at.number_input]}
    fields["Name"].input("T9")
    fields["Substation: new name"].input("Hilltop")  # none stored yet: "New substation…"
    fields["Capacity (MVA)"].set_value(40.0)
    fields["HV voltage (kV)"].set_value(110.0)
    at.button(key="FormSubmitter:create-component-Create component").click().run()

    assert not at.exception
    assert texts(at.success) == []
    assert any(
        f"The database file {path} was deleted while GridBoard was running" in message
        for message in texts(at.error)
    ), texts(at.error)
    assert not path.exists()
