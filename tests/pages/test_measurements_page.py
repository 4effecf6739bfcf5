"""Measurements: add one, import a CSV or Parquet file (manager only)."""

from __future__ import annotations

import datetime as datetime_module
import io
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core.domain import Actor, Role
from core.imports import MEASUREMENTS_TEMPLATE_CSV
from core.measurements.measurements import list_measurements
from tests.factories import LINE, SWITCH, TRANSFORMER, make_component
from tests.pages.conftest import APP, everything, sign_in_as, texts

PAGE = "pages/measurements.py"
ADD = "FormSubmitter:add-measurement-Add measurement"


def _stored(db, component_id):
    with db.read() as session:
        return list_measurements(session=session, component_id=component_id)


def _button(at, label):
    return next(button for button in at.button if button.label == label)


def _add_one(at, value, overwrite=False):
    at.button_group[0].set_value("Add one").run()
    at.date_input[0].set_value(date(2024, 5, 1))
    at.time_input[0].set_value(time(13, 45))
    next(f for f in at.text_input if f.label == "Value").input(value)
    if overwrite:
        at.checkbox[0].check()
    at.button(key=ADD).click().run()
    return at


def test_a_manager_adds_one_measurement(open_app, app_db):
    line = make_component(app_db, LINE)
    at = _add_one(open_app(as_user="mona", page=PAGE), "20.5")
    assert texts(at.success) == [
        "Added voltage 20.5 kV at 2024-05-01 13:45 UTC to L1 in substation Riverside."
    ]
    assert not at.warning
    assert list(_stored(app_db, line.id)["value"]) == [20.5]


def test_the_add_one_form_reads_and_says_times_in_the_browsers_zone(app_db):
    line = make_component(app_db, LINE)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.context = {"timezone": "Europe/Zurich", "timezone_offset": -120}
    sign_in_as(at, app_db, "mona")
    at.run()
    at.switch_page(PAGE).run()
    at.button_group[0].set_value("Add one").run()
    assert [d.label for d in at.date_input] == ["Date (Europe/Zurich)"]
    assert [t.label for t in at.time_input] == ["Time (Europe/Zurich)"]
    at = _add_one(at, "20.5")
    assert texts(at.success) == [
        "Added voltage 20.5 kV at 2024-05-01 13:45 CEST to L1 in substation Riverside."
    ]
    stored = _stored(app_db, line.id)["timestamp"][0]
    assert stored == datetime(2024, 5, 1, 11, 45, tzinfo=UTC)  # 13:45 in Zurich


def test_a_value_with_a_comma_is_explained(open_app, app_db):
    line = make_component(app_db, LINE)
    at = _add_one(open_app(as_user="mona", page=PAGE), "1,5")
    (message,) = texts(at.error)
    assert "**Value**: '1,5' is not a number (use a dot for decimals, like 1.5)" in message
    assert _stored(app_db, line.id).is_empty()


def test_a_value_implausible_for_the_component_is_refused_with_its_unit(open_app, app_db):
    line = make_component(app_db, LINE)  # 20 kV
    at = _add_one(open_app(as_user="mona", page=PAGE), "20000")
    (message,) = texts(at.error)
    assert "20000 kV looks like volts; GridBoard stores kV" in message
    assert "write 20)" in message
    assert _stored(app_db, line.id).is_empty()


def test_a_second_value_at_the_same_time_needs_overwrite(open_app, app_db):
    line = make_component(app_db, LINE)
    at = _add_one(open_app(as_user="mona", page=PAGE), "1.0")
    at = _add_one(at, "2.0")
    (message,) = texts(at.error)
    assert "already has a voltage measurement at 2024-05-01T13:45:00+00:00" in message
    assert "choose overwrite to replace it" in message
    at = _add_one(at, "3.0", overwrite=True)
    assert list(_stored(app_db, line.id)["value"]) == [3.0]


class _Clock(datetime):
    """The wall clock the page reads, moved on by ``later`` (the time a manager spends typing)."""

    later = timedelta(0)

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + cls.later


@pytest.mark.parametrize(
    "passing", [timedelta(minutes=1), timedelta(days=1)], ids=["minute", "day"]
)
def test_the_time_typed_is_stored_when_the_clock_passes_a_minute_or_midnight_before_submitting(
    open_app, app_db, monkeypatch, passing
):
    """The form's date and time start at "now"; the clock passing a minute (or midnight) while
    the manager types must not put back "now" in place of the time typed."""
    line = make_component(app_db, LINE)
    at = open_app(as_user="mona", page=PAGE)
    monkeypatch.setattr(datetime_module, "datetime", _Clock)  # the page's `from datetime import`
    at.button_group[0].set_value("Add one").run()
    at.date_input[0].set_value(date(2024, 5, 1))
    at.time_input[0].set_value(time(13, 45))
    next(f for f in at.text_input if f.label == "Value").input("20.5")
    monkeypatch.setattr(_Clock, "later", passing)
    at.button(key=ADD).click().run()
    assert texts(at.success) == [
        "Added voltage 20.5 kV at 2024-05-01 13:45 UTC to L1 in substation Riverside."
    ]
    assert list(_stored(app_db, line.id)["timestamp"]) == [datetime(2024, 5, 1, 13, 45, tzinfo=UTC)]


def test_without_components_the_page_says_to_create_them_first(open_app):
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Add one").run()
    assert "No components yet." in everything(at)


def _csv() -> bytes:
    return MEASUREMENTS_TEMPLATE_CSV.encode()


def _import(at, name, data, *, overwrite=False):
    at.file_uploader[0].upload(name, data, "application/octet-stream").run()
    if overwrite:
        at.radio[0].set_value(True).run()
    _button(at, f"Import {name}").click().run()
    return at


def test_importing_a_csv_file_previews_then_imports(open_app, app_db):
    for base in (TRANSFORMER, LINE, SWITCH):  # the components the template names
        make_component(app_db, base, substation="Fuchsberg")
    at = open_app(as_user="mona", page=PAGE)
    assert at.download_button[0].label == "Download a template CSV"
    at.file_uploader[0].upload("m.csv", _csv(), "text/csv").run()
    preview = at.dataframe[0].value
    assert list(preview.columns)[:3] == ["line", "component_name", "substation"]
    assert list(preview["line"]) == [2, 3, 4, 5]
    _button(at, "Import m.csv").click().run()
    assert texts(at.success) == [
        "Imported m.csv: 4 rows, 4 measurements added, 0 skipped (already stored)."
    ]
    at = _import(at, "m.csv", _csv(), overwrite=True)
    assert texts(at.success) == [
        "Imported m.csv: 4 rows, 0 measurements added, 4 overwritten (already stored)."
    ]


def test_importing_parquet(open_app, app_db):
    line = make_component(app_db, LINE)
    frame = pl.DataFrame(
        {
            "component_id": [line.id, line.id],
            "timestamp": ["2024-05-01T00:00:00Z", "2024-05-01T00:15:00Z"],
            "measurement_type": ["power", "power"],
            "value": [1.0, 2.0],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    at = _import(open_app(as_user="mona", page=PAGE), "m.parquet", buffer.getvalue())
    assert "2 measurements added" in texts(at.success)[0]
    assert len(_stored(app_db, line.id)) == 2


def test_an_implausible_file_is_refused_unless_the_manager_allows_it_for_this_import(
    open_app, app_db
):
    transformer = make_component(app_db, TRANSFORMER)  # 110 kV
    data = (
        b"component_name,substation,timestamp,measurement_type,value\n"
        b"T1,Riverside,2024-05-01T00:00:00Z,voltage,110000\n"
    )
    at = _import(open_app(as_user="mona", page=PAGE), "volts.csv", data)
    assert texts(at.error)[0].startswith("Nothing was imported")
    reasons = " ".join(at.dataframe[-1].value["problem"])
    assert "110000 kV looks like volts; GridBoard stores kV" in reasons
    assert _stored(app_db, transformer.id).is_empty()
    next(box for box in at.checkbox if box.label.startswith("Allow implausible")).check().run()
    _button(at, "Import volts.csv").click().run()
    assert "1 measurements added" in texts(at.success)[0]
    assert "Implausible values allowed for this import" in everything(at)
    assert list(_stored(app_db, transformer.id)["value"]) == [110000.0]


def test_a_file_naming_unknown_components_is_refused_whole(open_app, app_db):
    transformer = make_component(app_db, TRANSFORMER, substation="Fuchsberg")  # T1, not S1
    at = _import(open_app(as_user="mona", page=PAGE), "m.csv", _csv())
    assert texts(at.error)[0].startswith("Nothing was imported: the file has 1 problem")
    reasons = " ".join(at.dataframe[-1].value["problem"])
    assert "S1" in reasons and "T1" not in reasons
    assert _stored(app_db, transformer.id).is_empty()


def test_the_page_refuses_a_user_who_is_not_a_manager(app_db):
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / PAGE), default_timeout=30)
    at.session_state["gridboard.actor"] = Actor(username="ulf", role=Role.USER)
    at.run()
    assert texts(at.error) == [
        "Only a manager may add or import measurements. Ask a manager if this needs doing."
    ]
    assert not at.file_uploader
