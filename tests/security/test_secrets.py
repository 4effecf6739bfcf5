"""No secret reaches a log or the console: not a password (typed, refused or set), not a
password hash, not the cookie key, not a sign-in cookie, not a database password.

Everything GridBoard logs (any logger, DEBUG and up) or prints is captured while it signs
people in and out, refuses them, locks them, sets passwords, reads cookies and runs the CLI.
"""

from __future__ import annotations

import io
import logging
import sys
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import make_url

from core.access.auth import SignInPolicy, read_sign_in_cookie, sign_in
from core.access.users import create_user, set_password
from core.cli import main
from core.db import Database
from core.errors import AuthenticationFailure, InvalidInput, SignInLockout
from core.models import User
from tests.factories import MANAGER

PASSWORD = "first-Secret-4711"
NEW_PASSWORD = "second-Secret-4712"
WRONG = "wrong-Secret-4713"
WEAK = "Password123!"
COOKIE_KEY = "cookie-key-Secret-of-32-chars-4714"


def test_no_secret_is_logged_or_printed(db: Database, caplog, capsys, monkeypatch):
    caplog.set_level(logging.DEBUG)
    url = db.engine.url.render_as_string(hide_password=False)
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="carla", password=PASSWORD)
    policy = SignInPolicy(max_failures=2)
    sign_in(db, username="carla", password=PASSWORD, sleep=lambda _: None)
    for _ in range(2):
        with pytest.raises((AuthenticationFailure, SignInLockout)):
            sign_in(db, username="carla", password=WRONG, policy=policy, sleep=lambda _: None)
    with pytest.raises(InvalidInput), db.write() as session:
        set_password(session=session, actor=MANAGER, username="carla", password=WEAK)
    with db.write() as session:
        set_password(session=session, actor=MANAGER, username="carla", password=NEW_PASSWORD)
    expires = (datetime.now(UTC) + timedelta(days=1)).timestamp()
    payload = {"username": "carla", "exp_date": expires, "sid": "a-sign-in-id"}
    token = jwt.encode(payload, COOKIE_KEY, "HS256")
    assert read_sign_in_cookie(token, key=COOKIE_KEY) is not None
    assert read_sign_in_cookie(token + "x", key=COOKIE_KEY) is None
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{WEAK}\n"))
    assert main(["--database-url", url, "create-user", "petr", "--password-stdin"]) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSWORD}x\n"))
    assert main(["--database-url", url, "create-user", "petr", "--password-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{NEW_PASSWORD}y\n"))
    assert main(["--database-url", url, "set-password", "petr", "--password-stdin"]) == 0

    with db.read() as session:
        hashes = [row.password_hash for row in session.query(User)]
    printed = capsys.readouterr()
    seen = "\n".join([caplog.text, printed.out, printed.err])
    assert seen.strip(), "nothing was captured: the test would prove nothing"
    secrets = [PASSWORD, NEW_PASSWORD, WRONG, WEAK, COOKIE_KEY, token, *hashes]
    database_password = make_url(url).password
    if database_password:
        secrets.append(str(database_password))
    leaked = [secret for secret in secrets if secret in seen]
    assert not leaked, f"secrets in logs or output: {leaked}"
