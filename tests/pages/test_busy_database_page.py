"""A page whose write meets a database held by another writer says so and keeps nothing."""

from __future__ import annotations

import pytest
import streamlit as st

from core.config import get_settings
from core.grid.components import list_components
from tests.faults.test_locked_database import other_writer
from tests.pages.conftest import texts

pytestmark = pytest.mark.every_backend  # SQLite's write lock; PostgreSQL's table locks

PAGE = "pages/manage-components.py"


def test_creating_a_component_while_another_writer_holds_the_database(
    open_app, app_db, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GRIDBOARD_SQLITE_BUSY_TIMEOUT_MS", "200")
    get_settings.cache_clear()
    st.cache_resource.clear()  # the app opens its database again, with the short wait
    at = open_app(as_user="mona", page=PAGE)
    fields = {field.label: field for field in [*at.text_input, *at.number_input]}
    fields["Name"].input("T9")
    fields["Substation: new name"].input("Hilltop")  # none stored yet: "New substation…"
    fields["Capacity (MVA)"].set_value(40.0)
    fields["HV voltage (kV)"].set_value(110.0)

    with other_writer(app_db.engine.url.render_as_string(hide_password=False)):
        at.button(key="FormSubmitter:create-component-Create component").click().run()

    assert not at.exception
    assert texts(at.error) == [
        "The database is busy with another write (waited 0.2 s for it): nothing was written; "
        "try again in a moment."
    ]
    assert texts(at.success) == []
    with app_db.read() as session:
        assert list_components(session=session).total == 0
