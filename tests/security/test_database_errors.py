"""No database error shows a statement's values, and no text a person types reaches the
database without its length rule.

On PostgreSQL a display name over its column's length used to fail inside the database with
an error whose text carried the statement's parameters, the new user's password hash
included: ``gridboard create-user`` printed it and the Users page sent it to the server log.
Now every text field is checked first (the same on SQLite, which would store it, and on
PostgreSQL, which would refuse it), every driver error becomes a domain error without the
statement or its values, and the log masks a bcrypt hash wherever it appears.
"""

from __future__ import annotations

import io
import logging
import sys
import traceback
from datetime import timedelta

import bcrypt
import pytest
from sqlalchemy import String, select

from core.access.api_tokens import create_api_token
from core.access.auth import attempt_key
from core.access.users import create_user, list_users
from core.alarms.records import COMMENT_LENGTH, acknowledge_alarm, shelve_alarm
from core.cli import main
from core.config import Settings
from core.db import Database
from core.errors import DatabaseFailure, GridBoardError, InvalidInput
from core.grid.components import create_component
from core.grid.substation_records import list_substation_records, update_substation
from core.logs import configure_logging, reset_logging
from core.measurements.measurements import add_measurement
from core.models import TEXT_LENGTH, USERNAME_LENGTH, Alarm, Base, User, utc_now
from core.notifications.webhooks import add_webhook
from core.reports.compute import time_zone_names
from core.reports.jobs import new_worker_id
from core.webhook_models import SECRET_LENGTH
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component

PASSWORD = "correct-horse-42"
HASH_MARKS = ("$2a$", "$2b$", "$2y$")


def _create_user(db: Database, **fields: str) -> None:
    with db.write() as session:
        create_user(session=session, actor=MANAGER, password=PASSWORD, **fields)


def _create_component(db: Database, **fields: str) -> None:
    make_component(db, TRANSFORMER, **fields)


def _rename_substation(db: Database, name: str) -> None:
    with db.write() as session:
        if not list_substation_records(session=session):
            create_component(session=session, actor=MANAGER, fields=TRANSFORMER)
        (record,) = list_substation_records(session=session)
        update_substation(session=session, actor=MANAGER, name=record.name, new_name=name)


def _add_webhook(db: Database, secret: str) -> None:
    with db.write() as session:
        add_webhook(session=session, actor=MANAGER, url="https://93.184.216.34/h", secret=secret)


def _create_token(db: Database, name: str) -> None:
    with db.write() as session:
        create_api_token(session=session, actor=MANAGER, name=name, scope="read")


def _alarm(db) -> int:
    """An active alarm on a new transformer (150 kV on its 110 kV)."""
    component = make_component(db, name=f"T-alarm-{len(_ALARMS)}")
    with db.write() as session:
        add_measurement(
            session=session, actor=MANAGER, component_id=component.id,
            measurement_type="voltage", timestamp="2024-05-01T00:00:00Z", value=150.0,
        )  # fmt: skip
        _ALARMS.append(session.scalar(select(Alarm.id).where(Alarm.component_id == component.id)))
    return _ALARMS[-1]


_ALARMS: list[int] = []


def _acknowledge(db, comment: str) -> None:
    alarm_id = _alarm(db)
    with db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=alarm_id, comment=comment)


def _shelve(db, reason: str) -> None:
    alarm_id = _alarm(db)
    with db.write() as session:
        shelve_alarm(
            session=session, actor=MANAGER, alarm_id=alarm_id,
            until=utc_now() + timedelta(hours=1), reason=reason,
        )  # fmt: skip


# Every text column someone can type into, and how to type into it.
TYPED = {
    "users.username": (USERNAME_LENGTH, lambda db, v: _create_user(db, username=v)),
    "users.display_name": (
        TEXT_LENGTH,
        lambda db, v: _create_user(db, username="carla", display_name=v),
    ),
    "users.email": (TEXT_LENGTH, lambda db, v: _create_user(db, username="carla", email=v)),
    "components.name": (TEXT_LENGTH, lambda db, v: _create_component(db, name=v)),
    "components.substation": (TEXT_LENGTH, lambda db, v: _create_component(db, substation=v)),
    "components.to_substation": (
        TEXT_LENGTH,
        lambda db, v: make_component(db, LINE, to_substation=v),
    ),
    "api_tokens.name": (100, lambda db, v: _create_token(db, name=v)),
    # Made by its first component (as components.substation above), or renamed.
    "substations.name": (TEXT_LENGTH, _rename_substation),
    "webhooks.secret": (SECRET_LENGTH, lambda db, v: _add_webhook(db, secret=v)),
}
# Text a person types into a column of no fixed length: its rule, and how to type into it.
UNBOUNDED = {
    "alarm_events.comment": (COMMENT_LENGTH, lambda db, v: _acknowledge(db, comment=v)),
    "alarms.shelve_reason": (COMMENT_LENGTH, lambda db, v: _shelve(db, reason=v)),
}
# Where the field a person types is named otherwise than its column.
FIELD_OF = {"alarms.shelve_reason": "reason"}
# Every other text column, and why nothing longer than it can be written there.
WRITTEN_BY_GRIDBOARD = {
    "components.component_type": "one of transformer, line, switch",
    "components.status": "open or closed",
    "components.created_by": "the acting user's name",
    "components.updated_by": "the acting user's name",
    "components.name_key": "name_key of the stored name: never longer than it",
    "substations.name_key": "name_key of the stored name: never longer than it",
    "measurements.measurement_type": "one of voltage, current, power",
    "measurement_rollups.component_type": "copied from components",
    "measurement_rollups.measurement_type": "copied from measurements",
    "users.password_hash": "a bcrypt hash, 60 characters",
    "users.role": "user or manager",
    "sign_in_attempts.username": "attempt_key, capped",
    "reports.status": "a fixed set of states",
    "reports.time_zone": "a name from the zone list",
    "reports.requested_by": "the acting user's name",
    "reports.claimed_by": "new_worker_id()",
    "sign_in_sessions.id_digest": "a SHA-256 digest in hex",
    "sign_in_sessions.username": "a user's name",
    "api_tokens.scope": "read or write",
    "api_tokens.token_hash": "a SHA-256 digest in hex",
    "api_tokens.created_by": "the acting user's name",
    "api_tokens.revoked_by": "the acting user's name",
    "limits.component_type": "one of transformer, line, switch",
    "limits.measurement_type": "one of voltage, current, power",
    "limits.updated_by": "the acting user's name",
    "limit_defaults.name": "a name from the defaults' own table",
    "limit_defaults.updated_by": "the acting user's name",
    "alarms.measurement_type": "one of voltage, current, power, or empty",
    "alarms.kind": "a kind from the alarms' own list",
    "alarms.severity": "alarm or warning",
    "alarms.state": "one of the four ISA-18.2 states",
    "alarm_events.event": "one of the lifecycle's events",
    "alarm_events.from_state": "one of the four ISA-18.2 states",
    "alarm_events.to_state": "one of the four ISA-18.2 states",
    "alarm_events.by": "the acting user's name, or system:alarms",
    "webhooks.url": "check_url: at most 2000 characters (notifications/test_webhook_rules.py)",
    "webhooks.created_by": "the acting user's name",
    "webhook_deliveries.event_id": "a UUID, 36 characters",
    "webhook_deliveries.idempotency_key": "a UUID, 36 characters",
    "webhook_deliveries.event": "one of the lifecycle's events",
    "webhook_deliveries.status": "pending, delivered or failed",
    "webhook_deliveries.claimed_by": "new_worker_id()",
    "webhook_attempts.worker": "new_worker_id()",
    "audit_log.actor": "the acting user's name (core.logs.audit_entry cuts it to fit)",
    "audit_log.event": "an event GridBoard names (cut to fit)",
    "audit_log.outcome": "ok, refused or another outcome GridBoard names (cut to fit)",
}


def test_every_text_column_is_typed_with_a_rule_or_written_by_gridboard_only():
    text_columns = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }
    assert text_columns == set(TYPED) | set(WRITTEN_BY_GRIDBOARD)
    assert max(map(len, time_zone_names())) <= 64
    assert len(attempt_key("x" * 1000)) <= USERNAME_LENGTH
    assert len(new_worker_id()) <= 200
    assert len(bcrypt.hashpw(b"x", bcrypt.gensalt()).decode()) <= 100


@pytest.mark.parametrize("column", sorted([*TYPED, *UNBOUNDED]))
def test_text_one_over_its_column_is_refused_before_the_database(db, column):
    length, write = (TYPED | UNBOUNDED)[column]
    field = FIELD_OF.get(column, column.split(".")[1])
    too_long = "a" * (length + 1)
    with pytest.raises(InvalidInput) as refused:
        write(db, too_long)
    (problem,) = refused.value.problems
    assert problem.field == field
    assert str(length) in problem.reason and "$2" not in str(refused.value)
    write(db, "a" * length)  # the longest that fits is stored, on both databases


def _seen(printed: pytest.CaptureResult[str], caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join([printed.out, printed.err, caplog.text])


def test_create_user_with_a_too_long_display_name_names_it_and_prints_no_hash(
    db, monkeypatch, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    url = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSWORD}\n"))
    command = ["--database-url", url, "create-user", "carla", "--password-stdin"]
    assert main([*command, "--display-name", "D" * 201]) == 1
    seen = _seen(capsys.readouterr(), caplog)
    assert "error: display_name: must be at most 200 characters, got 201" in seen
    assert not [mark for mark in HASH_MARKS if mark in seen]
    assert "Traceback" not in seen and "INSERT" not in seen
    with db.read() as session:
        assert list_users(session=session) == []


def test_a_database_error_carries_no_statement_values(db, caplog):
    """A row the database itself refuses (a role its check constraint forbids): the error is
    a domain error, and neither it nor its traceback shows the hash that was in the row."""
    caplog.set_level(logging.DEBUG)
    digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    with pytest.raises(DatabaseFailure) as failed, db.write() as session:
        session.add(User(username="carla", display_name="C", password_hash=digest, role="boss"))
        session.flush()
    shown = "".join(traceback.format_exception(failed.value))
    assert "the database refused the operation" in str(failed.value)
    for text in (shown, caplog.text):
        assert digest not in text and not [m for m in HASH_MARKS if m in text]
        assert "INSERT" not in text
    with db.read() as session:
        assert session.scalars(select(User)).all() == []


def test_a_failed_read_is_a_domain_error_too(db):
    from sqlalchemy import text

    with pytest.raises(GridBoardError) as failed, db.read() as session:
        session.execute(text("SELECT * FROM no_such_table WHERE x = :h"), {"h": "$2b$12$abc"})
    assert "$2b$" not in "".join(traceback.format_exception(failed.value))


@pytest.mark.parametrize(
    "text",
    [
        "$2b$12$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa",
        "$2y$10$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa",
        "$2a$04$" + "abcdefghijklmnopqrstuvwxyz",  # cut short in a long error text
        "'$2b$12$abcdefghij ... (120 characters truncated) ... '",
    ],
)
def test_a_hash_is_masked_in_any_logger_message_and_traceback(text, tmp_path):
    """Also in a logger that writes with its own handler and does not propagate to the
    root's (as Streamlit's loggers do)."""
    written = io.StringIO()
    own = logging.getLogger("streamlit.like")
    own.propagate = False
    handler = logging.StreamHandler(written)
    own.addHandler(handler)
    configure_logging(Settings(log_format="text"), stream="stdout")
    try:
        own.warning("stored %s", text)
        try:
            raise ValueError(f"(psycopg.errors.CheckViolation) Failing row contains ({text}).")
        except ValueError:
            own.exception("Uncaught app exception")
        logging.getLogger("core.somewhere").error("row %s", text)
    finally:
        reset_logging()
        own.removeHandler(handler)
    out = written.getvalue()
    assert "[redacted]" in out and "CheckViolation" in out
    assert not [mark for mark in HASH_MARKS if mark in out]


@pytest.fixture
def app_on_db(db, monkeypatch):
    """The real ``app.py`` on this test's database (SQLite or PostgreSQL), mona signed in."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.config import get_settings
    from core.domain import Role
    from tests.pages.conftest import APP, COOKIE_KEY, add_user, sign_in_as
    from tests.pages.server_process import like_one_server_process
    from views import resources

    monkeypatch.setenv("GRIDBOARD_DATABASE_URL", db.engine.url.render_as_string(False))
    monkeypatch.setenv("GRIDBOARD_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setattr(resources, "report_runner", lambda: None)
    get_settings.cache_clear()
    st.cache_resource.clear()
    add_user(db, "mona", Role.MANAGER)
    with like_one_server_process():
        at = AppTest.from_file(str(APP), default_timeout=30)
        sign_in_as(at, db, "mona")
        at.run()
        at.switch_page("pages/users.py").run()
        yield at
    st.cache_resource.clear()
    get_settings.cache_clear()


def test_the_users_page_names_a_too_long_display_name_and_logs_no_hash(
    app_on_db, db, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    at = app_on_db
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input("carla")
    fields["Full name (optional)"].input("D" * 201)
    fields["Email (optional)"].input("e" * 190 + "@example.com")
    fields["Password"].input(PASSWORD)
    fields["Password again"].input(PASSWORD)
    at.button(key="FormSubmitter:create-user-Create user").click().run()
    assert not at.exception
    (message,) = [str(e.value) for e in at.error]
    assert "**Full name**: must be at most 200 characters, got 201" in message
    assert "**Email**: must be at most 200 characters, got 202" in message
    seen = _seen(capsys.readouterr(), caplog)
    assert not [mark for mark in HASH_MARKS if mark in seen + message]
    with db.read() as session:
        assert [u.username for u in list_users(session=session)] == ["mona"]
