"""A burst of guesses for one name checks at most ``max_failures`` passwords, however many
threads or processes send it at once, and the right password is refused once the name is
locked: an attempt is counted in the database before its password is checked.

"Checked" is counted where it happens: every ``bcrypt.checkpw`` against the user's real hash,
in every thread and every process. The user's hash has bcrypt's real cost, so without the
reservation all the guesses of a burst are being checked at the same time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt
import pytest
from sqlalchemy import delete, event

from core.access import auth
from core.access.auth import DEFAULT_POLICY
from core.access.sign_in_attempts import reserve_attempt
from core.access.users import create_user
from core.db import Database
from core.errors import AuthenticationFailure, SignInLockout
from core.models import SignInAttempt, utc_now
from tests.factories import MANAGER

ROOT = Path(__file__).resolve().parents[2]
RIGHT = "correct-horse-42"
WRONG = "wrong-password-1"
BURST = 12


def _attempt(database: Database, password: str) -> str:
    try:
        auth.sign_in(database, username="carla", password=password, sleep=lambda _: None)
    except SignInLockout:
        return "locked"
    except AuthenticationFailure:
        return "refused"
    return "signed in"


def _count_checks_of(real_hash: bytes) -> tuple[list[bytes], Callable[..., bool]]:
    """A ``bcrypt.checkpw`` that records each check against ``real_hash``."""
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def checkpw(password: bytes, hashed: bytes) -> bool:
        if hashed == real_hash:
            checked.append(password)
        return real_checkpw(password, hashed)

    return checked, checkpw


@pytest.fixture
def carla_hash(db: Database) -> bytes:
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="carla", password=RIGHT)
    with db.read() as session:
        from core.models import User

        return session.query(User).filter_by(username="carla").one().password_hash.encode()


def _after_the_burst_the_right_password_is_refused(db: Database, outcomes: list[str]) -> None:
    if "signed in" not in outcomes:
        assert _attempt(db, RIGHT) == "locked"


def test_a_burst_of_wrong_guesses_from_threads_checks_only_five(db, carla_hash, monkeypatch):
    checked, checkpw = _count_checks_of(carla_hash)
    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    start = threading.Barrier(BURST)

    def guess(password: str) -> str:
        start.wait()
        return _attempt(db, password)

    with ThreadPoolExecutor(BURST) as pool:
        outcomes = list(pool.map(guess, [WRONG] * BURST))
    assert len(checked) == DEFAULT_POLICY.max_failures
    assert outcomes.count("refused") == DEFAULT_POLICY.max_failures - 1
    assert outcomes.count("locked") == BURST - DEFAULT_POLICY.max_failures + 1
    checked.clear()
    assert _attempt(db, RIGHT) == "locked"
    assert checked == []


def test_the_right_password_in_a_burst_from_threads_is_no_extra_guess(db, carla_hash, monkeypatch):
    checked, checkpw = _count_checks_of(carla_hash)
    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    start = threading.Barrier(BURST)

    def guess(password: str) -> str:
        start.wait()
        return _attempt(db, password)

    with ThreadPoolExecutor(BURST) as pool:
        outcomes = list(pool.map(guess, [WRONG] * (BURST - 1) + [RIGHT]))
    assert len(checked) <= DEFAULT_POLICY.max_failures
    # Signed in only if its own check was one of those five.
    assert outcomes.count("signed in") == checked.count(RIGHT.encode())
    _after_the_burst_the_right_password_is_refused(db, outcomes)


def test_a_burst_from_separate_processes_checks_only_five(db, carla_hash):
    """Twelve processes (``tests/security/guess_once.py``), each with its own engine and its
    own bcrypt, start together once all are ready: eleven wrong guesses and the right one."""
    url = db.engine.url.render_as_string(hide_password=False)
    passwords = [WRONG] * (BURST - 1) + [RIGHT]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.security.guess_once", url, p, carla_hash.decode()],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in passwords
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reported = [json.loads(process.communicate(timeout=600)[0]) for process in processes]
    finally:
        for process in processes:
            process.kill()
    outcomes = [r["outcome"] for r in reported]
    assert sum(r["checks"] for r in reported) <= DEFAULT_POLICY.max_failures, reported
    assert outcomes.count("signed in") <= 1
    _after_the_burst_the_right_password_is_refused(db, outcomes)


def test_an_attempt_counted_while_a_reset_forgets_the_count_is_still_counted(db: Database):
    """A reset (or a success) deletes a name's count while another attempt is counting on
    it: the attempt's row is locked by its own upsert, so the deletion waits, and the attempt
    never finds its row gone (on PostgreSQL that was a 500 to a sign-in racing a reset)."""
    moment = utc_now()
    with db.write() as session:
        reserve_attempt(session, "carla", moment, DEFAULT_POLICY)  # the row exists
    forgotten = threading.Event()

    def forget() -> None:
        with db.write() as other:
            other.execute(delete(SignInAttempt).where(SignInAttempt.username == "carla"))
        forgotten.set()

    deleting = threading.Thread(target=forget)

    def after_the_upsert(_conn, _cursor, statement, *_args) -> None:
        if "INSERT INTO sign_in_attempts" in statement and not deleting.ident:
            deleting.start()
            deleting.join(timeout=2)  # a deletion that is not held back commits meanwhile

    engine = db.engine
    event.listen(engine, "after_cursor_execute", after_the_upsert)
    try:
        with db.write() as session:
            reservation = reserve_attempt(session, "carla", moment, DEFAULT_POLICY)
    finally:
        event.remove(engine, "after_cursor_execute", after_the_upsert)
        deleting.join(timeout=30)
    assert reservation.slot == 2
    assert forgotten.is_set()
