"""The logs an operator reads: one structured record per write and per report step, on stdout
and in the rotating file, and never a password, a hash, a cookie or the cookie key."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import select

from core.access.auth import (
    SignInPolicy,
    cookie_issued_at,
    cookie_sign_in,
    end_session,
    sign_in,
    start_session,
)
from core.access.users import create_user, set_password, set_role
from core.cli import main
from core.config import Settings
from core.errors import AuthenticationFailure, SignInLockout
from core.grid.components import create_component, delete_component, update_component
from core.imports import import_components, import_measurements
from core.logs import REDACTED, configure_logging, reset_logging
from core.measurements import rollups
from core.measurements.measurements import add_measurement
from core.models import User
from core.reports.jobs import cancel_report, request_report
from core.seed import seed_grid
from tests.factories import LINE, MANAGER, TRANSFORMER
from tests.report_runs import run_next

COOKIE_KEY = "k3y-that-signs-the-cookies-0123456789"
FIRST_PASSWORD = "first-Pa55word-of-c4rla"
NEW_PASSWORD = "second-Pa55word-of-c4rla"
WRONG_PASSWORD = "not-her-Pa55word-9"
T0 = datetime(2024, 5, 1, tzinfo=UTC)


class Logs:
    """What the configured handlers wrote: stdout (through capsys) and the log file."""

    def __init__(self, capsys: pytest.CaptureFixture[str], file: Path) -> None:
        self.capsys = capsys
        self.file = file
        self.stdout = ""

    def read(self) -> tuple[str, str]:
        self.stdout += self.capsys.readouterr().out
        return self.stdout, self.file.read_text(encoding="utf-8")

    def records(self) -> list[dict[str, object]]:
        stdout, file_text = self.read()
        from_stdout = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        from_file = [json.loads(line) for line in file_text.splitlines() if line.strip()]
        assert from_stdout == from_file  # both places get every record, the same way
        return from_file

    def actions(self, action: str) -> list[dict[str, object]]:
        return [r for r in self.records() if r.get("action") == action]


@pytest.fixture
def logs(tmp_path, capsys):
    file = tmp_path / "logs" / "gridboard.log"
    configure_logging(Settings(cookie_key=COOKIE_KEY, log_file=str(file)), stream="stdout")
    yield Logs(capsys, file)
    reset_logging()


def _one(logs: Logs, action: str, **expected: object) -> dict[str, object]:
    matching = [
        r
        for r in logs.actions(action)
        if all(r.get(name) == value for name, value in expected.items())
    ]
    assert len(matching) == 1, f"{action} {expected}: {matching or logs.records()}"
    (found,) = matching
    assert found["level"] in {"INFO", "WARNING"} and found["logger"] == "gridboard.audit"
    assert datetime.fromisoformat(str(found["time"])).tzinfo is not None
    assert isinstance(found["duration_ms"], int | float) and found["duration_ms"] >= 0
    return found


def _secrets_absent(logs: Logs, *secrets: str) -> None:
    stdout, file_text = logs.read()
    assert stdout and file_text
    for secret in secrets:
        assert secret not in stdout and secret not in file_text, f"{secret[:12]}... leaked"


def test_users_and_sign_ins_are_logged_without_any_secret(db, logs):
    policy = SignInPolicy(max_failures=2)

    def attempt(password: str, username: str = "carla"):
        return sign_in(
            db, username=username, password=password, policy=policy, sleep=lambda _: None
        )

    with db.write() as session:
        carla = create_user(
            session=session, actor=MANAGER, username="Carla", password=FIRST_PASSWORD
        )
    with db.read() as session:
        first_hash = session.scalars(select(User.password_hash)).one()
    assert attempt(FIRST_PASSWORD).username == "carla"
    with db.write() as session:
        set_role(session=session, actor=MANAGER, username="carla", role="manager")
    with db.write() as session:
        set_password(session=session, actor=carla.actor, username="carla", password=NEW_PASSWORD)
    with db.read() as session:
        new_hash = session.scalars(select(User.password_hash)).one()
    with pytest.raises(AuthenticationFailure):
        attempt(WRONG_PASSWORD)
    with pytest.raises(SignInLockout):
        attempt(FIRST_PASSWORD)  # the old password, second failure: locked
    with pytest.raises(AuthenticationFailure):
        attempt(NEW_PASSWORD, username="nobody")

    session_id = start_session(db, username="carla", lifetime=timedelta(days=7))
    token = jwt.encode(
        {
            "username": "carla",
            "exp_date": (datetime.now(UTC) + timedelta(days=7)).timestamp(),
            "sid": session_id,
        },
        COOKIE_KEY,
        algorithm="HS256",
    )
    cookie = jwt.decode(token, COOKIE_KEY, algorithms=["HS256"])
    with db.read() as session:
        signed_in = cookie_sign_in(
            session=session,
            username=cookie["username"],
            issued_at=cookie_issued_at(cookie["exp_date"], 7),
            session_id=cookie["sid"],
        )
        stale = cookie_sign_in(
            session=session, username="carla", issued_at=T0, session_id=session_id
        )
    assert signed_in is not None and stale is None
    end_session(db, session_id=session_id)

    created = _one(logs, "user.create", user="mona", user_id=carla.id, username="carla")
    assert created["outcome"] == "ok" and created["role"] == "user"
    _one(logs, "user.set_role", user="mona", username="carla", role="manager", previous_role="user")
    _one(logs, "user.set_password", user="carla", user_id=carla.id, outcome="ok")
    _one(logs, "auth.sign_in", user="carla", user_id=carla.id, outcome="ok", level="INFO")
    refused = _one(logs, "auth.sign_in", user="carla", outcome="refused", level="WARNING")
    assert refused["failures"] == 1
    _one(logs, "auth.sign_in", user="carla", outcome="locked_now", level="WARNING")
    _one(logs, "auth.sign_in", user="nobody", outcome="refused")
    _one(logs, "auth.cookie_sign_in", user="carla", outcome="ok", user_id=carla.id)
    _one(logs, "auth.cookie_sign_in", user="carla", outcome="refused", level="WARNING")
    _one(logs, "auth.sign_out", user="carla", outcome="ok")
    _secrets_absent(
        logs, FIRST_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, first_hash, new_hash, token, COOKIE_KEY
    )


def test_component_measurement_import_and_seed_writes_are_logged(db, logs):
    with db.write() as session:
        seeded = seed_grid(
            session=session,
            actor=MANAGER,
            components=3,
            per_component=6,
            end=T0 + timedelta(days=1),
        )
    with db.write() as session:
        component = create_component(
            session=session, actor=MANAGER, fields={**TRANSFORMER, "name": "T9"}
        )
    with db.write() as session:
        update_component(
            session=session,
            actor=MANAGER,
            component_id=component.id,
            fields={**TRANSFORMER, "name": "T9", "capacity_mva": 63},
        )
    with db.write() as session:
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component.id,
            measurement_type="power",
            timestamp="2024-05-01T12:00:00Z",
            value=12.5,
        )
    components_csv = (
        b"name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
        b"T9,Riverside,transformer,80,110,,\n"
        b"L7,Riverside,line,,20,3.5,\n"
    )
    with db.write() as session:
        imported = import_components(
            session=session,
            actor=MANAGER,
            source=components_csv,
            file_name="grid.csv",
            overwrite=True,
        )
    measurements_csv = (
        b"component_name,substation,timestamp,measurement_type,value\n"
        b"T9,Riverside,2024-05-01T12:15:00Z,power,13\n"
        b"L7,Riverside,2024-05-01T12:15:00Z,current,140\n"
        b"L7,Riverside,2024-05-01T12:30:00Z,current,141\n"
    )
    with db.write() as session:
        import_measurements(
            session=session, actor=MANAGER, source=measurements_csv, file_name="readings.csv"
        )
    with db.write() as session:
        rebuilt = rollups.rebuild(session, actor=MANAGER)
    with db.write() as session:
        removed = delete_component(session=session, actor=MANAGER, component_id=component.id)

    seed = _one(logs, "seed", user="mona", outcome="ok")
    assert seed["components"] == 3 and seed["measurements"] == seeded.measurements
    _one(logs, "component.create", user="mona", component_id=component.id)
    # the import's overwrite of T9 is one import record, not a record per component
    _one(logs, "component.update", user="mona", component_id=component.id)
    _one(logs, "measurement.add", component_id=component.id, inserted=1, measurement_type="power")
    by_import = _one(logs, "import.components", user="mona", file_name="grid.csv")
    assert (by_import["rows"], by_import["inserted"], by_import["overwritten"]) == (2, 1, 1)
    assert by_import["component_ids"] == [component.id] and imported.overwritten == 1
    readings = _one(logs, "import.measurements", user="mona", file_name="readings.csv")
    assert (readings["rows"], readings["inserted"], readings["skipped"]) == (3, 3, 0)
    _one(logs, "aggregates.rebuild", user="mona", rollup_rows=rebuilt)
    _one(logs, "component.delete", component_id=component.id, measurements=removed)
    assert removed == 2


def test_a_rolled_back_write_is_not_logged_as_done(db, logs):
    with pytest.raises(RuntimeError), db.write() as session:
        create_component(session=session, actor=MANAGER, fields=LINE)
        raise RuntimeError("something after the write failed")
    record = _one(logs, "component.create", user="mona")
    assert (record["outcome"], record["level"]) == ("rolled_back", "WARNING")


def test_every_report_step_is_logged(db, logs):
    with db.write() as session:
        seed_grid(
            session=session,
            actor=MANAGER,
            components=2,
            per_component=30,
            end=T0 + timedelta(days=1),
        )
        done = request_report(session=session, actor=MANAGER, start=T0, end=T0 + timedelta(days=1))
    assert run_next(db, "host:1:worker") == done.id
    with db.write() as session:
        dropped = request_report(
            session=session, actor=MANAGER, start=T0, end=T0 + timedelta(days=1)
        )
    with db.write() as session:
        cancel_report(session=session, actor=MANAGER, report_id=dropped.id)

    _one(logs, "report.queued", user="mona", report_id=done.id, time_zone="UTC")
    _one(logs, "report.claimed", user="mona", report_id=done.id, worker="host:1:worker", attempt=1)
    completed = _one(logs, "report.completed", report_id=done.id, outcome="ok")
    assert completed["user"] == "mona" and completed["worker"] == "host:1:worker"
    assert completed["rollup_rows"] or completed["raw_rows"]
    _one(logs, "report.queued", report_id=dropped.id)
    _one(logs, "report.cancelled", user="mona", report_id=dropped.id)


def test_the_log_file_rotates_and_keeps_the_configured_backups(tmp_path, capsys):
    file = tmp_path / "gridboard.log"
    settings = Settings(log_file=str(file), log_file_max_bytes=2_000, log_file_backups=2)
    configure_logging(settings, stream="stdout")
    try:
        for number in range(100):
            logging.getLogger("gridboard.audit").info("line %d", number)
    finally:
        reset_logging()
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gridboard.log",
        "gridboard.log.1",
        "gridboard.log.2",
    ]
    for path in tmp_path.iterdir():
        lines = path.read_text(encoding="utf-8").splitlines()
        assert path.stat().st_size <= 2_000 and all(json.loads(line) for line in lines)
    newest = json.loads(file.read_text(encoding="utf-8").splitlines()[-1])
    assert newest["message"] == "line 99"


def test_secrets_passed_by_mistake_are_masked(tmp_path, capsys):
    bcrypt_hash = "$2b$12$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa"
    token = jwt.encode({"username": "carla"}, COOKIE_KEY, algorithm="HS256")
    configure_logging(Settings(cookie_key=COOKIE_KEY, log_format="text"), stream="stdout")
    log = logging.getLogger("core.somewhere")
    try:
        log.warning("stored %s for carla, password=%s", bcrypt_hash, FIRST_PASSWORD)
        log.warning("cookie %s signed with %s", token, COOKIE_KEY)
        log.warning("dsn", extra={"gridboard": {"url": "postgresql://gb:pgsecret@db/gridboard"}})
        log.info("fields", extra={"gridboard": {"password": NEW_PASSWORD, "user": "carla"}})
        try:
            raise ValueError(f'{{"password": "{WRONG_PASSWORD}"}}')
        except ValueError:
            log.exception("failed")
    finally:
        reset_logging()
    out = capsys.readouterr().out
    for secret in (bcrypt_hash, FIRST_PASSWORD, token, COOKIE_KEY, "pgsecret", NEW_PASSWORD):
        assert secret not in out
    assert WRONG_PASSWORD not in out and "ValueError" in out  # the traceback is kept, masked
    assert out.count(REDACTED) >= 7 and 'user="carla"' in out
    assert "stored [redacted] for carla" in out  # the rest of the message is kept


def test_configuring_again_with_the_same_settings_adds_nothing(tmp_path, capsys):
    settings = Settings(log_file=str(tmp_path / "app.log"))
    before = len(logging.getLogger().handlers)
    try:
        for _run in range(3):  # the app calls it on every script run
            configure_logging(settings)
        assert len(logging.getLogger().handlers) == before + 2
        logging.getLogger("gridboard.audit").info("once")
    finally:
        reset_logging()
    assert capsys.readouterr().out.count('"once"') == 1
    assert len(logging.getLogger().handlers) == before


def test_cli_commands_log_to_stderr_and_keep_stdout_for_their_answer(db, capsys, monkeypatch):
    url = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(FIRST_PASSWORD + "\n"))
    try:
        code = main(["--database-url", url, "create-user", "olga", "--password-stdin"])
    finally:
        reset_logging()
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out == "created user olga\n"
    records = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
    (created,) = [r for r in records if r.get("action") == "user.create"]
    assert created["user"] == "system:cli" and created["username"] == "olga"
    assert FIRST_PASSWORD not in captured.err


def test_the_worker_logs_to_stdout_what_it_runs(db, capsys):
    url = db.engine.url.render_as_string(hide_password=False)
    with db.write() as session:
        seed_grid(
            session=session,
            actor=MANAGER,
            components=2,
            per_component=6,
            end=T0 + timedelta(days=1),
        )
        queued = request_report(
            session=session, actor=MANAGER, start=T0, end=T0 + timedelta(days=1)
        )
    capsys.readouterr()
    try:
        assert main(["--database-url", url, "worker", "--once", "--poll-seconds", "0.1"]) == 0
    finally:
        reset_logging()
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    steps = [(r["action"], r["report_id"]) for r in records if "action" in r]
    assert steps == [("report.claimed", queued.id), ("report.completed", queued.id)]
    # its own messages (waiting, stopped) are JSON records on stdout too
    assert any("waiting for reports" in str(r["message"]) for r in records)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRIDBOARD_LOG_LEVEL", "loud"),
        ("GRIDBOARD_LOG_FORMAT", "xml"),
        ("GRIDBOARD_LOG_FILE_MAX_BYTES", "0"),
        ("GRIDBOARD_LOG_FILE_BACKUPS", "none"),
    ],
)
def test_a_bad_log_setting_is_named(name, value, monkeypatch, capsys):
    from core.config import get_settings

    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert main(["--database-url", "sqlite:///:memory:", "rebuild-aggregates"]) == 1
    finally:
        get_settings.cache_clear()
    assert name in capsys.readouterr().err


def test_log_settings_accept_any_case(monkeypatch):
    monkeypatch.setenv("GRIDBOARD_LOG_LEVEL", "warning")
    monkeypatch.setenv("GRIDBOARD_LOG_FORMAT", "Text")
    settings = Settings()
    assert (settings.log_level, settings.log_format) == ("WARNING", "text")
