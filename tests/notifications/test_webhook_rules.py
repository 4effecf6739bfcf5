"""Who may handle webhooks and which URLs and secrets they may give: each refusal names the
problem, and nothing is stored; the command line never shows the secret."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from core.cli import main
from core.config import get_settings
from core.db import Database
from core.errors import InvalidInput, MissingPermission
from core.notifications.webhooks import (
    add_webhook,
    delete_webhook,
    list_attempts,
    list_webhooks,
    set_webhook_active,
)
from core.webhook_models import Webhook
from tests.factories import MANAGER, USER
from tests.notifications.receiver import SECRET


@pytest.fixture
def private_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("GRIDBOARD_WEBHOOK_ALLOW_PRIVATE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Webhook)) or 0)


def test_a_user_may_not_add_see_or_change_webhooks(db, allow_private):
    refused = pytest.raises(MissingPermission, match=r"ulf \(user\) may not add webhooks")
    with refused, db.write() as session:
        add_webhook(session=session, actor=USER, url="http://127.0.0.1:9/h", secret=SECRET)
    assert _count(db) == 0
    with db.write() as session:
        hook = add_webhook(
            session=session, actor=MANAGER, url="http://127.0.0.1:9/h", secret=SECRET
        )
    for call in (
        lambda s: list_webhooks(session=s, actor=USER),
        lambda s: list_attempts(session=s, actor=USER),
        lambda s: set_webhook_active(session=s, actor=USER, webhook_id=hook.id, active=False),
        lambda s: delete_webhook(session=s, actor=USER, webhook_id=hook.id),
    ):
        with pytest.raises(MissingPermission), db.write() as session:
            call(session)
    with db.read() as session:
        assert [h.active for h in list_webhooks(session=session, actor=MANAGER)] == [True]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://receiver.example.com/hook", "must start with http:// or https://, got ftp"),
        ("receiver.example.com/hook", "must start with http:// or https://, got none"),
        ("https://alice:pw@93.184.216.34/hook", "must not hold a user name or password"),
        ("https://93.184.216.34:99999/hook", "has a port that is not a number"),
        ("https:///hook", "must name a host"),
        ("https://93.184.216.34/a b", "must not contain spaces"),
        ("", "must not be empty"),
        ("http://127.0.0.1:8000/hook", "is a loopback, private or otherwise non-public address"),
        ("http://localhost/hook", "non-public address (127.0.0.1"),
        ("http://10.1.2.3/hook", "GRIDBOARD_WEBHOOK_ALLOW_PRIVATE=true"),
        ("http://169.254.169.254/latest/meta-data", "non-public address (169.254.169.254)"),
        ("http://[::1]/hook", "non-public address (::1)"),
        ("http://[::ffff:192.168.0.1]/hook", "non-public address"),
        ("http://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(db, private_refused, url, reason):
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        add_webhook(session=session, actor=MANAGER, url=url, secret=SECRET)
    assert refused.value.problems[0].field == "url"
    assert reason in refused.value.problems[0].reason
    assert _count(db) == 0


def test_a_public_address_is_taken_and_a_short_secret_is_not(db, private_refused):
    short = pytest.raises(InvalidInput, match="secret: must be at least 16 characters, got 5")
    with short, db.write() as session:
        add_webhook(session=session, actor=MANAGER, url="https://93.184.216.34/h", secret="short")
    with db.write() as session:
        hook = add_webhook(
            session=session, actor=MANAGER, url="https://93.184.216.34/h", secret=SECRET
        )
    assert hook.url == "https://93.184.216.34/h" and hook.active


def test_the_command_line_adds_lists_and_removes_without_showing_the_secret(
    db, allow_private, tmp_path, capsys, monkeypatch
):
    url = db.engine.url.render_as_string(hide_password=False)
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    base = ["--database-url", url, "webhooks"]
    assert main([*base, "add", "http://127.0.0.1:9/hook", "--secret-file", str(secret_file)]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another-secret-long-enough\n"))
    assert main([*base, "add", "http://127.0.0.1:10/hook", "--secret-file", "-"]) == 0
    assert main([*base, "list"]) == 0
    out = capsys.readouterr().out
    assert "webhook 1 added" in out and "http://127.0.0.1:10/hook" in out
    assert SECRET not in out and "another-secret" not in out
    with db.read() as session:
        stored = list(session.scalars(select(Webhook.secret).order_by(Webhook.id)))
    assert stored == [SECRET, "another-secret-long-enough"]  # the file's newline left out
    assert main([*base, "remove", "1"]) == 0
    assert main([*base, "remove", "1"]) == 1
    assert "webhook 1 does not exist" in capsys.readouterr().err
    assert main([*base, "attempts"]) == 0
    assert "no attempts yet" in capsys.readouterr().out
    missing = tmp_path / "missing"
    assert main([*base, "add", "http://127.0.0.1:9/h", "--secret-file", str(missing)]) == 1
    assert "--secret-file: cannot read" in capsys.readouterr().err
    assert _count(db) == 1


def test_the_command_line_names_a_bad_url(db, private_refused, tmp_path, capsys):
    url = db.engine.url.render_as_string(hide_password=False)
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    command = ["--database-url", url, "webhooks", "add", "http://127.0.0.1/h"]
    assert main([*command, "--secret-file", str(secret_file)]) == 1
    assert "url: its host '127.0.0.1' is a loopback" in capsys.readouterr().err
    assert _count(db) == 0


def test_a_url_over_2000_characters_is_refused_and_one_of_2000_is_stored(db, private_refused):
    base = "https://93.184.216.34/"
    longest = base + "a" * (2000 - len(base))
    too_long = pytest.raises(InvalidInput, match="url: must be at most 2000 characters, got 2001")
    with too_long, db.write() as session:
        add_webhook(session=session, actor=MANAGER, url=longest + "a", secret=SECRET)
    with db.write() as session:
        stored = add_webhook(session=session, actor=MANAGER, url=longest, secret=SECRET)
    assert stored.url == longest
