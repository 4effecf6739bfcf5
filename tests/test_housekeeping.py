"""Housekeeping: a manager deactivates or deletes users and deletes reports, each audited."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from core.access.auth import sign_in, user_still_signed_in
from core.access.users import create_user, delete_user, get_user, list_users, set_active
from core.domain import Actor, Role
from core.errors import AuthenticationFailure, LastManager, MissingPermission, OwnAccount
from core.logs import FIELDS
from core.models import utc_now
from core.reports.jobs import (
    UndeletableReport,
    UnknownReport,
    cancel_report,
    delete_report,
    get_report,
    request_report,
)
from tests.factories import MANAGER, USER

GOOD = "a-good-password-7"
NO_WAIT = {"sleep": lambda _seconds: None}


def _user(db, username, role=Role.USER):
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username=username, password=GOOD, role=role)


def _audit(caplog, action):
    return [
        r.__dict__[FIELDS]
        for r in caplog.records
        if r.__dict__.get(FIELDS, {}).get("action") == action
    ]


def test_a_deactivated_user_cannot_sign_in_and_is_signed_out_until_reactivated(db, caplog):
    caplog.set_level(logging.INFO, logger="gridboard.audit")
    _user(db, "mona", Role.MANAGER)
    _user(db, "ulf")
    sign_in(db, username="ulf", password=GOOD, **NO_WAIT)
    with db.write() as session:
        record = set_active(session=session, actor=MANAGER, username="ulf", active=False)
    assert not record.active
    with pytest.raises(AuthenticationFailure):
        sign_in(db, username="ulf", password=GOOD, **NO_WAIT)
    with db.read() as session:  # an open session or a cookie ends too
        assert user_still_signed_in(session=session, username="ulf", since=utc_now()) is None
    (logged,) = _audit(caplog, "user.deactivate")
    assert (logged["user"], logged["username"], logged["outcome"]) == ("mona", "ulf", "ok")
    with db.write() as session:
        set_active(session=session, actor=MANAGER, username="ulf", active=True)
    assert sign_in(db, username="ulf", password=GOOD, **NO_WAIT).username == "ulf"
    assert _audit(caplog, "user.activate")


def test_a_manager_deletes_a_user(db, caplog):
    caplog.set_level(logging.INFO, logger="gridboard.audit")
    _user(db, "mona", Role.MANAGER)
    _user(db, "ulf")
    with db.write() as session:
        delete_user(session=session, actor=MANAGER, username="ulf")
    with db.read() as session:
        assert [u.username for u in list_users(session=session)] == ["mona"]
    (logged,) = _audit(caplog, "user.delete")
    assert (logged["user"], logged["username"]) == ("mona", "ulf")


def test_nobody_removes_themselves_the_last_manager_or_anyone_as_a_user(db):
    _user(db, "mona", Role.MANAGER)
    _user(db, "max", Role.MANAGER)
    _user(db, "ulf")
    with db.write() as session:
        with pytest.raises(OwnAccount, match="you cannot delete your own account"):
            delete_user(session=session, actor=MANAGER, username="mona")
        with pytest.raises(OwnAccount, match="you cannot deactivate your own account"):
            set_active(session=session, actor=MANAGER, username="mona", active=False)
        with pytest.raises(MissingPermission):
            delete_user(session=session, actor=USER, username="max")
    with db.write() as session:
        set_active(session=session, actor=MANAGER, username="max", active=False)
    max_actor = Actor(username="max", role=Role.MANAGER)
    with db.write() as session:  # mona is the only active manager left
        set_active(session=session, actor=MANAGER, username="max", active=True)
    with db.write() as session:
        delete_user(session=session, actor=max_actor, username="mona")
    with db.write() as session, pytest.raises(LastManager):
        set_active(
            session=session,
            actor=Actor(username="ulf", role=Role.MANAGER),
            username="max",
            active=False,
        )
    with db.read() as session:
        assert get_user(session=session, username="max").active


def test_a_manager_deletes_a_finished_report_not_an_active_one(db, caplog):
    caplog.set_level(logging.INFO, logger="gridboard.audit")
    start = datetime(2024, 5, 1, tzinfo=UTC)
    with db.write() as session:
        record = request_report(
            session=session, actor=MANAGER, start=start, end=start + timedelta(days=1)
        )
    with db.write() as session, pytest.raises(UndeletableReport, match="cancel it before"):
        delete_report(session=session, actor=MANAGER, report_id=record.id)
    with db.write() as session:
        cancel_report(session=session, actor=MANAGER, report_id=record.id)
    with db.write() as session, pytest.raises(MissingPermission):
        delete_report(session=session, actor=USER, report_id=record.id)
    with db.write() as session:
        delete_report(session=session, actor=MANAGER, report_id=record.id)
    with db.read() as session, pytest.raises(UnknownReport):
        get_report(session=session, report_id=record.id)
    (logged,) = _audit(caplog, "report.delete")
    assert (logged["user"], logged["report_id"], logged["status"]) == (
        "mona",
        record.id,
        "cancelled",
    )
