"""The audit log a manager reads: every audited change is a row stored with the change (and
only with it), sign-ins and sign-outs too, secrets masked; filtered, newest first, a page at
a time, as CSV. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import logs
from core.access.audit_log import (
    AUDIT_SCHEMA,
    AuditFilter,
    audit_choices,
    audit_frames,
    list_audit_entries,
)
from core.access.auth import end_session, sign_in, start_session
from core.access.users import create_user, get_user
from core.errors import AuthenticationFailure, InvalidInput, MissingPermission
from core.grid.components import delete_component, update_component
from core.models import AuditEntry
from core.streamed_files import csv_chunks
from tests.factories import MANAGER, TRANSFORMER, USER, make_component

GOOD = "correct-horse-42"


def _entries(db) -> list[AuditEntry]:
    with db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        session.expunge_all()
        return list(rows)


def test_a_change_is_audited_with_who_what_and_which(db):
    component = make_component(db)
    with db.write() as session:
        update_component(
            session=session,
            actor=MANAGER,
            component_id=component.id,
            fields={**TRANSFORMER, "capacity_mva": 63},
        )
    rows = _entries(db)
    assert [(r.actor, r.event, r.target, r.outcome) for r in rows] == [
        ("mona", "component.create", f"component {component.id}", "ok"),
        ("mona", "component.update", f"component {component.id}", "ok"),
    ]
    assert json.loads(rows[0].fields) == {"component_id": component.id}
    assert rows[0].at <= rows[1].at <= datetime.now(UTC)


def test_a_change_that_rolls_back_leaves_no_audit_row(db):
    component = make_component(db)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.write() as session:
        delete_component(session=session, actor=MANAGER, component_id=component.id)
        raise Boom  # after the delete was audited, before the commit
    assert [r.event for r in _entries(db)] == ["component.create"]


def test_a_refused_change_leaves_no_audit_row(db):
    component = make_component(db)
    with pytest.raises(InvalidInput), db.write() as session:
        update_component(
            session=session,
            actor=MANAGER,
            component_id=component.id,
            fields={**TRANSFORMER, "capacity_mva": -1},
        )
    assert [r.event for r in _entries(db)] == ["component.create"]


def test_secrets_in_audited_fields_are_masked_as_in_the_log(db):
    with db.write() as session:
        logs.on_commit(
            session,
            "test.secretive",
            user="mona",
            started=time.perf_counter(),
            name="backup",
            password="hunter2-hunter2",
            note="url postgresql://app:s3cret-pw@db/grid",
        )
    (row,) = _entries(db)
    stored = json.loads(row.fields)
    assert stored["password"] == logs.REDACTED
    assert "s3cret-pw" not in row.fields and "hunter2" not in row.fields
    assert row.target == "name backup"


def test_sign_ins_and_sign_outs_are_rows_and_a_sign_in_is_remembered(db):
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="carla", password=GOOD, role="user")
    with db.read() as session:
        assert get_user(session=session, username="carla").last_sign_in_at is None
    with pytest.raises(AuthenticationFailure):
        sign_in(db, username="carla", password="wrong-password-1", sleep=lambda _: None)
    before = datetime.now(UTC)
    user = sign_in(db, username="Carla", password=GOOD, sleep=lambda _: None)
    session_id = start_session(db, username="carla", lifetime=timedelta(hours=1))
    end_session(db, session_id=session_id)
    rows = _entries(db)
    assert [(r.actor, r.event, r.outcome) for r in rows] == [
        ("mona", "user.create", "ok"),
        ("carla", "auth.sign_in", "refused"),
        ("carla", "auth.sign_in", "ok"),
        ("carla", "auth.sign_out", "ok"),
    ]
    assert "wrong-password" not in " ".join(r.fields for r in rows)
    with db.read() as session:
        signed_in = get_user(session=session, username="carla").last_sign_in_at
    assert signed_in is not None and before <= signed_in <= datetime.now(UTC)
    assert user.username == "carla"


def _audit(db, event: str, user: str, **ids: object) -> None:
    with db.write() as session:
        logs.on_commit(session, event, user=user, started=time.perf_counter(), **ids)


def test_the_log_reads_newest_first_a_page_at_a_time_filtered(db):
    for number in range(7):
        _audit(db, "component.update", "mona" if number % 2 else "otto", component_id=number)
    _audit(db, "report.queued", "mona", report_id=3, time_zone="Europe/Zürich")
    with db.read() as session:
        first = list_audit_entries(session=session, actor=MANAGER, where=AuditFilter(), limit=3)
        second = list_audit_entries(
            session=session, actor=MANAGER, where=AuditFilter(), offset=3, limit=3
        )
        monas = list_audit_entries(
            session=session,
            actor=MANAGER,
            where=AuditFilter(actor="mona", event="component.update"),
        )
        zurich = list_audit_entries(
            session=session, actor=MANAGER, where=AuditFilter(text="EUROPE/")
        )
        by_target = list_audit_entries(
            session=session, actor=MANAGER, where=AuditFilter(text="component 4")
        )
        actors, events = audit_choices(session=session, actor=MANAGER)
    assert first.total == second.total == 8
    assert [e.target for e in first.items] == ["report 3", "component 6", "component 5"]
    assert [e.target for e in second.items] == ["component 4", "component 3", "component 2"]
    assert [e.target for e in monas.items] == ["component 5", "component 3", "component 1"]
    assert monas.total == 3
    assert [e.event for e in by_target.items] == ["component.update"]
    assert actors == ["mona", "otto"] and events == ["component.update", "report.queued"]
    assert [e.target for e in zurich.items] == ["report 3"]  # in its fields, any case


def test_a_period_keeps_what_happened_in_it(db):
    _audit(db, "component.update", "mona", component_id=1)
    with db.write() as session:
        session.execute(
            AuditEntry.__table__.update().values(at=datetime(2024, 5, 1, 12, tzinfo=UTC))
        )
    _audit(db, "component.update", "mona", component_id=2)
    may = AuditFilter(
        since=datetime(2024, 5, 1, tzinfo=UTC), until=datetime(2024, 5, 2, tzinfo=UTC)
    )
    with db.read() as session:
        found = list_audit_entries(session=session, actor=MANAGER, where=may)
        later = list_audit_entries(
            session=session,
            actor=MANAGER,
            where=AuditFilter(since=datetime(2024, 5, 2, tzinfo=UTC)),
        )
    assert [e.target for e in found.items] == ["component 1"]
    assert [e.target for e in later.items] == ["component 2"]


def test_bad_filters_and_pages_are_refused_by_name(db):
    backwards = AuditFilter(
        since=datetime(2024, 5, 2, tzinfo=UTC), until=datetime(2024, 5, 1, tzinfo=UTC)
    )
    with db.read() as session:
        with pytest.raises(InvalidInput, match="until"):
            list_audit_entries(session=session, actor=MANAGER, where=backwards)
        with pytest.raises(InvalidInput, match="page"):
            list_audit_entries(session=session, actor=MANAGER, where=AuditFilter(), limit=0)


def test_only_a_manager_reads_the_audit_log(db):
    with db.read() as session, pytest.raises(MissingPermission):
        list_audit_entries(session=session, actor=USER, where=AuditFilter())


def test_the_csv_holds_every_matching_entry_newest_first_formulas_defused(db):
    for number in range(3):
        _audit(db, "component.update", "mona", component_id=number)
    _audit(db, "test.formula", "=2+5", report_id=9)
    with db.read() as session:
        frames = audit_frames(session=session, actor=MANAGER, where=AuditFilter())
        text = b"".join(csv_chunks(frames, AUDIT_SCHEMA)).decode()
        total = session.scalar(select(func.count()).select_from(AuditEntry))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(AUDIT_SCHEMA) and len(rows) == total == 4
    assert [r["target"] for r in rows] == ["report 9", *[f"component {n}" for n in (2, 1, 0)]]
    assert rows[0]["actor"] == "'=2+5" and rows[0]["time"].endswith("Z")
