"""Audit log (manager): who did what, filtered, newest first, a page at a time, in the
browser's time zone, with a CSV download; a user is told it is not theirs. The Users page's
last sign-in."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from core import logs
from core.access.auth import sign_in
from core.models import AuditEntry
from tests.factories import TRANSFORMER, make_component
from tests.pages.conftest import APP, PASSWORD, everything, sign_in_as, texts

PAGE = "pages/audit-log.py"
ZURICH = {"timezone": "Europe/Zurich", "timezone_offset": -120}


def _open(app_db, username: str, page: str = PAGE, context=None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.context = dict(context or ZURICH)
    sign_in_as(at, app_db, username)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _audit(app_db, event: str, user: str, **ids: object) -> None:
    with app_db.write() as session:
        logs.on_commit(session, event, user=user, started=time.perf_counter(), **ids)


def test_a_manager_reads_who_did_what_newest_first_in_the_browsers_zone(app_db):
    component = make_component(app_db, TRANSFORMER)
    _audit(app_db, "report.queued", "otto", report_id=4)
    with app_db.write() as session:  # the first change happened on a summer afternoon
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.event == "component.create")
            .values(at=datetime(2024, 7, 1, 12, 30, tzinfo=UTC))
        )
    at = _open(app_db, "mona")
    assert texts(at.title) == ["Audit log"]
    table = at.dataframe[0].value
    assert list(table["Event"]) == ["report.queued", "component.create"]
    assert list(table["Who"]) == ["otto", "mona"]
    assert list(table["Target"]) == ["report 4", f"component {component.id}"]
    assert table["Time"][1] == "2024-07-01 14:30 CEST"  # 12:30 UTC in Zurich
    assert at.download_button[0].label == "Download 2 entries (these filters) as CSV"
    assert "Times in Europe/Zurich" in everything(at)


def test_the_filters_narrow_the_list_and_the_download(app_db):
    make_component(app_db, TRANSFORMER)
    _audit(app_db, "report.queued", "otto", report_id=4)
    _audit(app_db, "report.queued", "mona", report_id=5)
    at = _open(app_db, "mona")
    at.selectbox(key="audit.actor").set_value("mona").run()
    assert list(at.dataframe[0].value["Target"]) == ["report 5", "component 1"]
    at.selectbox(key="audit.event").set_value("report.queued").run()
    assert list(at.dataframe[0].value["Target"]) == ["report 5"]
    assert at.download_button[0].label == "Download 1 entry (these filters) as CSV"
    at.selectbox(key="audit.actor").set_value("Everyone").run()
    at.text_input(key="audit.text").input("report 4").run()
    assert list(at.dataframe[0].value["Who"]) == ["otto"]
    at.text_input(key="audit.text").input("nothing like it").run()
    assert not at.dataframe
    assert "Nothing in the audit log matches" in everything(at)


def test_the_period_is_days_in_the_browsers_zone(app_db):
    _audit(app_db, "report.queued", "mona", report_id=1)
    _audit(app_db, "report.queued", "mona", report_id=2)
    with app_db.write() as session:  # 23:30 UTC on 1 July is 2 July in Zurich
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.target == "report 1")
            .values(at=datetime(2024, 7, 1, 23, 30, tzinfo=UTC))
        )
    at = _open(app_db, "mona")
    at.date_input(key="audit.since").set_value(date(2024, 7, 2)).run()
    at.date_input(key="audit.until").set_value(date(2024, 7, 2)).run()
    assert list(at.dataframe[0].value["Target"]) == ["report 1"]
    at.date_input(key="audit.until").set_value(date(2024, 7, 1)).run()
    assert "**Until**: must be after since" in everything(at)
    assert not at.dataframe


def test_a_long_log_is_paged_on_the_server(app_db):
    for number in range(55):
        _audit(app_db, "component.update", "mona", component_id=number)
    at = _open(app_db, "mona")
    assert len(at.dataframe[0].value) == 50
    assert at.dataframe[0].value["Target"][0] == "component 54"
    assert "1-50 of 55, newest first" in everything(at)
    at.session_state["audit.page"] = 2
    at.run()
    assert list(at.dataframe[0].value["Target"]) == [f"component {n}" for n in range(4, -1, -1)]


def test_a_user_is_told_the_audit_log_is_not_theirs(app_db):
    _audit(app_db, "report.queued", "mona", report_id=1)
    at = _open(app_db, "ulf")
    assert texts(at.error) == [
        "Only a manager may read the audit log. Ask a manager if this needs doing."
    ]
    assert not at.dataframe


@pytest.mark.every_backend
def test_sign_ins_appear_in_the_log_and_on_the_users_page(app_db):
    sign_in(app_db, username="ulf", password=PASSWORD, sleep=lambda _: None)
    at = _open(app_db, "mona", page="pages/users.py")
    users = at.dataframe[0].value
    last = dict(zip(users["Username"], users["Last sign-in"], strict=True))
    assert last["mona"] == "never"
    assert last["ulf"].endswith(("CET", "CEST"))  # the browser's zone
    log = _open(app_db, "mona").dataframe[0].value
    assert ("ulf", "auth.sign_in", "ok") in zip(
        log["Who"], log["Event"], log["Outcome"], strict=True
    )
