"""The same CSV imported through the API, the command line and the dashboard gives the same
alarms; the dashboard's add-one form raises an alarm and clears it; on both databases."""

from __future__ import annotations

from datetime import date, time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from api.app import create_app
from core.cli import main
from core.config import Settings
from core.models import Alarm, Component, Measurement, MeasurementRollup
from tests.factories import LINE, make_component
from tests.pages.conftest import COOKIE_KEY, PASSWORD, texts

pytestmark = pytest.mark.every_backend

PAGE = "pages/measurements.py"
# Riverside's 110 kV transformer: an alarm (above 121 kV) inside a warning (above 115.5 kV),
# both cleared at minute 3; a low warning (below 104.5 kV) from minute 4, still active. L1
# (20 kV): a high warning from minute 1 to 2.
CSV = "\n".join(
    ["component_name,substation,timestamp,measurement_type,value"]
    + [f"T1,Riverside,2024-03-01T00:0{m}:00Z,voltage,{v}"
       for m, v in enumerate([110, 125, 116, 100, 103, 102])]
    + [f"L1,Riverside,2024-03-01T00:0{m}:00Z,voltage,{v}"
       for m, v in enumerate([20, 21.3, 20])]
).encode()  # fmt: skip
EXPECTED = [
    ("L1", "voltage", "high_warning", "2024-03-01 00:01", "2024-03-01 00:02", 21.3),
    ("T1", "voltage", "high_alarm", "2024-03-01 00:01", "2024-03-01 00:02", 125.0),
    ("T1", "voltage", "high_warning", "2024-03-01 00:01", "2024-03-01 00:03", 125.0),
    ("T1", "voltage", "low_warning", "2024-03-01 00:03", None, 100.0),
]


def _alarms(db):
    with db.read() as session:
        rows = session.execute(
            select(Component.name, Alarm.measurement_type, Alarm.kind, Alarm.raised_at_us,
                   Alarm.cleared_at_us, Alarm.worst_value)
            .join(Component, Component.id == Alarm.component_id)
        ).all()  # fmt: skip

    def minute(us):
        return None if us is None else f"2024-03-01 00:{(us // 60_000_000) % 60:02d}"

    return sorted((n, m, k, minute(r), minute(c), w) for n, m, k, r, c, w in rows)


def _forget(db):
    with db.write() as session:
        for model in (Alarm, Measurement, MeasurementRollup):
            session.execute(delete(model))


def test_the_same_csv_gives_the_same_alarms_by_api_cli_and_dashboard(open_app, app_db, tmp_path):
    make_component(app_db)
    make_component(app_db, LINE)
    settings = Settings(cookie_key=COOKIE_KEY, demo=False)
    with TestClient(create_app(app_db, settings=settings, run_reports=False)) as client:
        token = client.post(
            "/auth/token", data={"username": "mona", "password": PASSWORD, "scope": "manager"}
        ).json()["access_token"]
        answer = client.post(
            "/measurements/import", content=CSV,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        )  # fmt: skip
    assert answer.status_code == 200, answer.text
    by_api = _alarms(app_db)
    assert by_api == EXPECTED

    _forget(app_db)
    path = tmp_path / "m.csv"
    path.write_bytes(CSV)
    url = app_db.engine.url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "import-measurements", str(path)]) == 0
    assert _alarms(app_db) == by_api

    _forget(app_db)
    at = open_app(as_user="mona", page=PAGE)
    at.file_uploader[0].upload("m.csv", CSV, "text/csv").run()
    next(b for b in at.button if b.label == "Import m.csv").click().run()
    assert texts(at.success) == [
        "Imported m.csv: 9 rows, 9 measurements added, 0 skipped (already stored)."
    ]
    assert _alarms(app_db) == by_api


def _add_one(at, minute, value, overwrite=False):
    at.button_group[0].set_value("Add one").run()
    at.date_input[0].set_value(date(2024, 3, 1))
    at.time_input[0].set_value(time(0, minute))
    next(f for f in at.text_input if f.label == "Value").input(value)
    if overwrite:
        at.checkbox[0].check()
    at.button(key="FormSubmitter:add-measurement-Add measurement").click().run()
    assert not at.error, texts(at.error)
    return at


def test_the_add_one_form_raises_an_alarm_and_clears_it(open_app, app_db):
    make_component(app_db)  # the only component: the form picks it
    at = open_app(as_user="mona", page=PAGE)
    at = _add_one(at, 0, "125")
    assert [(k, c) for _, _, k, _, c, _ in _alarms(app_db)] == [
        ("high_alarm", None), ("high_warning", None),
    ]  # fmt: skip
    at = _add_one(at, 1, "110")
    assert [(k, c) for _, _, k, _, c, _ in _alarms(app_db)] == [
        ("high_alarm", "2024-03-01 00:01"), ("high_warning", "2024-03-01 00:01"),
    ]  # fmt: skip
    _add_one(at, 0, "110", overwrite=True)  # the sample that raised them was a mistake
    assert _alarms(app_db) == []
