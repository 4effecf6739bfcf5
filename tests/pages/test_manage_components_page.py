"""Manage components: create, edit, delete with confirmation, import CSV (manager only)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.domain import Actor, ComponentType, Role
from core.grid.component_fields import FIELDS_OF_TYPE, OPTIONAL_OF_TYPE
from core.grid.components import get_component, list_components
from core.imports import COMPONENTS_TEMPLATE_CSV
from core.measurements.measurements import add_measurement
from core.units import format_bytes
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.pages.conftest import everything, texts

PAGE = "pages/manage-components.py"
PAGE_FILE = Path(__file__).resolve().parents[2] / PAGE


def _names(db):
    with db.read() as session:
        return sorted(c.name for c in list_components(session=session).items)


def _button(at, label):
    return next(button for button in at.button if button.label == label)


def _inputs(at):
    return {field.label: field for field in [*at.text_input, *at.number_input]}


def test_a_manager_creates_a_transformer(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    fields = _inputs(at)
    fields["Name"].input("T9")
    fields["Substation: new name"].input("Hilltop")
    fields["Capacity (MVA)"].set_value(40.0)
    fields["HV voltage (kV)"].set_value(110.0)
    at.button(key="FormSubmitter:create-component-Create component").click().run()
    assert texts(at.success) == ["Created T9 in Hilltop."]
    assert _names(app_db) == ["T9"]


def test_the_type_decides_the_fields(open_app):
    at = open_app(as_user="mona", page=PAGE)
    at.radio[0].set_value(ComponentType.SWITCH).run()
    assert set(_inputs(at)) == {"Name", "Substation: new name"}
    assert [r.label for r in at.radio] == ["Type", "Switch status"]
    at.radio[0].set_value(ComponentType.LINE).run()
    assert {"Length (km)", "Nominal voltage (kV)"} <= set(_inputs(at))


def test_each_type_s_form_has_the_fields_of_core_s_table(open_app):
    at = open_app(as_user="mona", page=PAGE)
    for kind in ComponentType:
        at.radio[0].set_value(kind).run()
        widgets = [*at.text_input, *at.number_input, *at.radio, *at.selectbox]
        keys = [w.key.removesuffix(".pick") for w in widgets if w.key]
        shown = {key.rsplit(".", 1)[1] for key in keys if key.startswith("create.")}
        assert shown - {"name", "substation"} == {*FIELDS_OF_TYPE[kind], *OPTIONAL_OF_TYPE[kind]}


def test_a_form_with_mistakes_says_which_fields_to_fix(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    _inputs(at)["Capacity (MVA)"].set_value(-5.0)
    at.button(key="FormSubmitter:create-component-Create component").click().run()
    (message,) = texts(at.error)
    assert message.startswith("Please correct this and try again:")
    assert "**Name**: must not be empty" in message
    assert "**Substation**: must not be empty" in message
    assert "**Capacity (MVA)**: must be greater than 0" in message
    assert "**Voltage (kV)**: a number is required (required for a transformer)" in message
    assert _names(app_db) == []


def test_a_duplicate_is_refused_with_its_name(open_app, app_db):
    make_component(app_db, TRANSFORMER)
    at = open_app(as_user="mona", page=PAGE)
    at.selectbox(key="create.substation.pick").set_value("Riverside").run()
    fields = _inputs(at)
    fields["Name"].input("T1")
    fields["Capacity (MVA)"].set_value(10.0)
    fields["HV voltage (kV)"].set_value(20.0)
    at.button(key="FormSubmitter:create-component-Create component").click().run()
    assert texts(at.error) == ["A component named 'T1' already exists in substation 'Riverside'."]


def test_editing_changes_the_type_and_empties_the_old_fields(open_app, app_db):
    line = make_component(app_db, LINE)
    at = open_app(as_user="mona", page=PAGE, query={"component": line.id})
    assert at.button_group[0].value == "Edit or delete"
    at.radio(key=f"edit.{line.id}.type").set_value(ComponentType.TRANSFORMER).run()
    assert "Saving makes it a transformer; the fields of a line go." in everything(at)
    _inputs(at)["Capacity (MVA)"].set_value(25.0)
    at.button(key=f"FormSubmitter:edit-component-{line.id}-Save changes").click().run()
    assert "Saved L1." in everything(at)
    with app_db.read() as session:
        stored = get_component(session=session, component_id=line.id)
    assert stored.component_type is ComponentType.TRANSFORMER
    assert (stored.capacity_mva, stored.voltage_kv, stored.length_km) == (25.0, 20.0, None)


def test_deleting_asks_for_a_confirmation_naming_the_measurements(open_app, app_db):
    line = make_component(app_db, LINE)
    with app_db.write() as session:
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=line.id,
            measurement_type="power",
            timestamp="2024-05-01T00:00:00Z",
            value=1.5,
        )
    at = open_app(as_user="mona", page=PAGE, query={"component": line.id})
    assert "Deleting L1 also deletes its 1 measurement." in everything(at)
    assert at.checkbox(key=f"delete.{line.id}").label == "Yes, delete L1 and its 1 measurement"
    assert _button(at, "Delete component").disabled
    at.checkbox(key=f"delete.{line.id}").check().run()
    _button(at, "Delete component").click().run()
    assert "Deleted L1 and its 1 measurement." in everything(at)
    assert _names(app_db) == []


def test_importing_a_good_file(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Import CSV").run()
    assert at.download_button[0].label == "Download a template CSV"
    at.file_uploader[0].upload("grid.csv", COMPONENTS_TEMPLATE_CSV.encode(), "text/csv").run()
    assert list(at.dataframe[0].value["name"]) == ["T1", "L1", "S1"]
    size = format_bytes(len(COMPONENTS_TEMPLATE_CSV.encode()))
    assert any(f"The first rows of grid.csv ({size})" in text for text in texts(at.caption))
    _button(at, "Import grid.csv").click().run()
    assert texts(at.success) == [
        "Imported grid.csv: 3 rows, 3 components added, 0 skipped (already stored)."
    ]
    assert _names(app_db) == ["L1", "S1", "T1"]


def test_importing_a_bad_file_lists_every_problem_and_writes_nothing(open_app, app_db):
    bad = COMPONENTS_TEMPLATE_CSV + "T2,Riverside,transformer,nan,110,,\nX,,gadget,,,,\n"
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Import CSV").run()
    at.file_uploader[0].upload("grid.csv", bad.encode(), "text/csv").run()
    _button(at, "Import grid.csv").click().run()
    (message,) = texts(at.error)
    assert message.startswith("Nothing was imported: the file has")
    problems = at.dataframe[-1].value
    assert list(problems.columns) == ["line", "column", "problem"]
    assert 5 in list(problems["line"]) and 6 in list(problems["line"])
    assert _names(app_db) == []


def test_an_unreadable_file_gets_one_clear_message(open_app):
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Import CSV").run()
    at.file_uploader[0].upload("grid.csv", b"", "text/csv").run()
    (message,) = texts(at.error)
    assert message.startswith("Cannot read grid.csv: the file is empty.")


def test_the_page_refuses_a_user_who_is_not_a_manager(app_db):
    at = AppTest.from_file(str(PAGE_FILE), default_timeout=30)
    at.session_state["gridboard.actor"] = Actor(username="ulf", role=Role.USER)
    at.run()
    assert texts(at.error) == [
        "Only a manager may create, edit, delete or import components. "
        "Ask a manager if this needs doing."
    ]
    assert not at.text_input


def test_a_line_is_created_and_edited_with_its_other_end(open_app, app_db):
    make_component(app_db, name="T1", substation="Riverside")
    make_component(app_db, name="T2", substation="Hilltop")
    at = open_app(as_user="mona", page=PAGE)
    at.radio[0].set_value(ComponentType.LINE).run()
    at.selectbox(key="create.substation.pick").set_value("Riverside").run()
    end = at.selectbox(key="create.to_substation.pick")
    assert end.label == "To substation (the line's other end; optional)"
    end.set_value("Riverside").run()
    fields = _inputs(at)
    fields["Name"].input("L7")
    fields["Length (km)"].set_value(4.0)
    fields["Nominal voltage (kV)"].set_value(20.0)
    at.button(key="FormSubmitter:create-component-Create component").click().run()
    (message,) = texts(at.error)
    assert "**To substation**: must be another substation than the line's own" in message
    assert _names(app_db) == ["T1", "T2"]

    at.selectbox(key="create.to_substation.pick").set_value("Hilltop").run()
    at.button(key="FormSubmitter:create-component-Create component").click().run()
    assert texts(at.success) == ["Created L7 in Riverside."]
    with app_db.read() as session:
        (line,) = list_components(session=session, search="L7").items
    assert line.to_substation == "Hilltop"

    at = open_app(as_user="mona", page=PAGE, query={"component": line.id})
    end = at.selectbox(key=f"edit.{line.id}.to_substation.pick")
    assert end.value == "Hilltop"
    end.set_value("New substation…").run()
    at.text_input(key=f"edit.{line.id}.to_substation").input("Seaside")
    at.button(key=f"FormSubmitter:edit-component-{line.id}-Save changes").click().run()
    with app_db.read() as session:
        assert get_component(session=session, component_id=line.id).to_substation == "Seaside"


def test_the_substation_is_picked_from_the_stored_ones_or_created_on_purpose(open_app, app_db):
    """The form lists the stored substations (searchable); a new one is an explicit choice
    that shows a field and says it creates one. A typo is no longer a new substation."""
    make_component(app_db, substation="Seefeld")
    make_component(app_db, name="T2", substation="Fuchsberg")
    at = open_app(as_user="mona", page=PAGE)
    picker = at.selectbox(key="create.substation.pick")
    assert picker.options == ["Fuchsberg", "Seefeld", "New substation…"]
    assert picker.value is None
    assert "create.substation" not in [box.key for box in at.text_input]
    picker.set_value("New substation…").run()
    assert "Saving creates this substation." in everything(at)
    at.text_input(key="create.substation").input("Nowhere-Else")
    _inputs(at)["Name"].input("T3")
    _inputs(at)["Capacity (MVA)"].set_value(40.0)
    _inputs(at)["HV voltage (kV)"].set_value(110.0)
    at.button(key="FormSubmitter:create-component-Create component").click().run()
    assert texts(at.success) == ["Created T3 in Nowhere-Else."]
    at.run()
    assert at.selectbox(key="create.substation.pick").options == [
        "Fuchsberg", "Nowhere-Else", "Seefeld", "New substation…",
    ]  # fmt: skip


def _picked(at):
    picker = at.selectbox(key="edit.id")
    return picker.format_func(picker.value) if picker.value is not None else None


def test_the_edit_page_follows_the_component_through_rename_type_change_and_delete(
    open_app, app_db
):
    line = make_component(app_db, LINE)
    other = make_component(app_db, TRANSFORMER, name="T2")
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Edit or delete").run()
    at.text_input(key="edit.q").input("L1").run()  # found by typing its name
    assert _picked(at) == "L1 · Riverside (line)"

    _inputs(at)["Name"].input("Northline")
    at.button(key=f"FormSubmitter:edit-component-{line.id}-Save changes").click().run()
    assert "Saved Northline." in everything(at)
    assert "No component matches" not in everything(at)
    assert _picked(at) == "Northline · Riverside (line)"

    at.radio(key=f"edit.{line.id}.type").set_value(ComponentType.TRANSFORMER).run()
    _inputs(at)["Capacity (MVA)"].set_value(25.0)
    at.button(key=f"FormSubmitter:edit-component-{line.id}-Save changes").click().run()
    assert _picked(at) == "Northline · Riverside (transformer)"

    assert "Northline has no measurements: deleting it deletes no data." in everything(at)
    assert "its 0 measurements" not in everything(at)
    assert at.checkbox(key=f"delete.{line.id}").label == "Yes, delete Northline"
    at.checkbox(key=f"delete.{line.id}").check().run()
    _button(at, "Delete component").click().run()
    assert "Deleted Northline." in everything(at)
    assert at.button_group[0].value == "Edit or delete"  # still where the person works
    assert _picked(at) == "T2 · Riverside (transformer)"
    assert other.id


def test_a_manager_renames_a_substation_and_deletes_only_an_empty_one(open_app, app_db):
    make_component(app_db, substation="Seefeldd")
    make_component(app_db, LINE, substation="Hilltop", to_substation="Seefeldd")
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Substations").run()
    at.selectbox(key="substations.pick").set_value("Seefeldd").run()
    delete = next(b for b in at.button if b.label.startswith("Delete"))
    assert delete.disabled
    assert "1 component(s) stand in it; 1 line(s) of other substations end here." in everything(at)
    at.text_input[0].input("Seefeld")
    at.button(key="FormSubmitter:substation-1-Save substation").click().run()
    assert "Saved substation Seefeld." in everything(at)
    with app_db.read() as session:
        items = list_components(session=session).items
    assert {(c.name, c.substation, c.to_substation) for c in items} == {
        ("T1", "Seefeld", None),
        ("L1", "Hilltop", "Seefeld"),
    }


def test_the_edit_caption_counts_what_the_search_box_matches(open_app, app_db):
    for name in ("T1", "T2", "Feeder 3"):
        make_component(app_db, name=name)
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Edit or delete").run()
    assert "3 components in all." in texts(at.caption)
    at.text_input(key="edit.q").input("t").run()  # T1, T2 (and "Feeder 3" has no t)
    assert "2 components match the search." in texts(at.caption)
    at.text_input(key="edit.q").input("feeder").run()
    assert "1 component matches the search." in texts(at.caption)


def test_a_long_match_says_only_the_first_are_listed(open_app, app_db):
    for number in range(102):
        make_component(app_db, name=f"T{number}")
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Edit or delete").run()
    at.text_input(key="edit.q").input("T").run()
    assert (
        "102 components match the search; the first 100 are listed. Type more to narrow down."
        in texts(at.caption)
    )
