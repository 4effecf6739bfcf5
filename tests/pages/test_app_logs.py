"""The running app's logs: configured once per process, a record per sign-in through the form,
and no password, hash or cookie key in them."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from core.config import get_settings
from core.logs import reset_logging
from core.models import User
from tests.pages.conftest import COOKIE_KEY, PASSWORD

WRONG = "not-the-password-1"


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    path = tmp_path / "app.log"
    monkeypatch.setenv("GRIDBOARD_LOG_FILE", str(path))
    get_settings.cache_clear()
    yield path
    reset_logging()


def _sign_in(at, username, password):
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input(username)
    fields["Password"].input(password)
    return at.button[0].click().run()


def test_the_app_logs_sign_ins_once_and_never_a_secret(open_app, app_db, log_file):
    refused = _sign_in(open_app(), "mona", WRONG)
    assert refused.error  # the form said so
    handlers = len(logging.getLogger().handlers)
    file_handlers = [
        h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(log_file)
    ]
    assert len(file_handlers) == 1
    at = _sign_in(open_app(), "mona", PASSWORD)
    assert not at.exception
    at.run()
    at.run()  # every rerun of app.py calls configure_logging: nothing is added again
    assert len(logging.getLogger().handlers) == handlers

    text = log_file.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    sign_ins = [(r["user"], r["outcome"]) for r in records if r.get("action") == "auth.sign_in"]
    assert sign_ins == [("mona", "refused"), ("mona", "ok")]
    with app_db.read() as session:
        hashes = session.scalars(select(User.password_hash)).all()
    for secret in (PASSWORD, WRONG, COOKIE_KEY, *hashes):
        assert secret not in text
