"""Passwords have a minimum strength wherever one is set: creating a user, a reset by a
manager, a user's own change, the ``gridboard`` command and the Users page. The rule is
``core.access.passwords.check_password_strength``; each refusal names what is wrong and writes
nothing.
"""

from __future__ import annotations

import io
import sys

import pytest

from core.access.auth import sign_in
from core.access.users import authenticate, create_user, list_users, set_password
from core.cli import main
from core.domain import Actor, Role
from core.errors import AuthenticationFailure, InvalidInput
from tests.factories import MANAGER
from tests.pages.conftest import texts

WEAK = [
    ("short-1", "must be at least 10 characters long"),
    ("onlyletterslong", "must mix letters with digits or symbols"),
    ("12345678901234", "must mix letters with digits or symbols"),
    ("ab1ab1ab1ab1", "must not repeat the same few characters"),
    (" leading-space-1", "must not start or end with a space"),
    ("carla-2024-pw", "must not be or contain the username"),
    ("my-CARLA-secret-9", "must not be or contain the username"),
    ("Password123!", "is a common password ('password' with digits or symbols added)"),
    ("P@ssw0rd-2024", "is a common password ('password' with digits or symbols added)"),
    ("qwerty-123456", "is a common password ('qwerty' with digits or symbols added)"),
    ("1q2w3e4r5t6y", "is a common password ('qwerty' with digits or symbols added)"),
    ("Welcome-2024!", "is a common password ('welcome' with digits or symbols added)"),
    ("GridBoard#2024", "is a common password ('gridboard' with digits or symbols added)"),
]
STRONG = ["correct-horse-42", "manager-pass-1", "user-pass-123", "Tr4nsformer yard"]


def _create(db, password, username="carla"):
    with db.write() as session:
        return create_user(session=session, actor=MANAGER, username=username, password=password)


@pytest.mark.parametrize(("password", "reason"), WEAK)
def test_a_weak_password_is_refused_with_its_reason(db, password, reason):
    with pytest.raises(InvalidInput) as refused:
        _create(db, password)
    (problem,) = refused.value.problems
    assert (problem.field, problem.reason) == ("password", reason)
    with db.read() as session:
        assert list_users(session=session) == []


@pytest.mark.parametrize("password", STRONG)
def test_a_strong_password_is_accepted(db, password):
    _create(db, password)
    with db.read() as session:
        assert authenticate(session=session, username="carla", password=password)


@pytest.mark.parametrize(("password", "reason"), WEAK)
def test_a_reset_or_own_change_to_a_weak_password_is_refused(db, password, reason):
    _create(db, "correct-horse-42")
    for actor in (MANAGER, Actor(username="carla", role=Role.USER)):
        with pytest.raises(InvalidInput, match="password"), db.write() as session:
            set_password(session=session, actor=actor, username="carla", password=password)
    with db.read() as session:
        assert authenticate(session=session, username="carla", password="correct-horse-42")


def test_the_command_line_refuses_a_common_password(db, monkeypatch, capsys):
    url = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("Password123!\n"))
    assert main(["--database-url", url, "create-user", "petr", "--password-stdin"]) == 1
    assert "is a common password" in capsys.readouterr().err
    with db.read() as session:
        assert list_users(session=session) == []


def test_the_users_page_explains_a_common_password(open_app, app_db):
    at = open_app(as_user="mona", page="pages/users.py")
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input("carla")
    fields["Password"].input("Password123!")
    fields["Password again"].input("Password123!")
    at.button(key="FormSubmitter:create-user-Create user").click().run()
    (message,) = texts(at.error)
    assert "**Password**: is a common password ('password' with digits or symbols added)" in (
        message
    )
    assert "not a common password" in str(fields["Password"].help)


# bcrypt reads at most 72 bytes (UTF-8) of a password and refuses more: GridBoard refuses
# such a password with its reason wherever one is set, and a sign-in with one is a wrong
# password, never a crash.
LONG_PASSPHRASES = [
    "a long passphrase of more than seventy two bytes 1 that bcrypt would refuse",  # 75 B
    "ümlaut-passwort-" + "ä1" * 19,  # 54 characters, 74 bytes
]
LONGEST = ("Seventy-two bytes, no more: " * 3)[:72]  # still accepted
TOO_LONG = (
    "must be at most 72 bytes long (bcrypt's limit; an accented letter takes 2 bytes, "
    "some other characters 3 or 4)"
)


@pytest.mark.parametrize("password", LONG_PASSPHRASES)
def test_a_password_over_72_bytes_is_refused_with_its_reason(db, password):
    assert len(password.encode()) > 72
    with pytest.raises(InvalidInput) as refused:
        _create(db, password)
    assert [(p.field, p.reason) for p in refused.value.problems] == [("password", TOO_LONG)]
    _create(db, LONGEST)
    for actor in (MANAGER, Actor(username="carla", role=Role.USER)):
        with pytest.raises(InvalidInput, match="at most 72 bytes"), db.write() as session:
            set_password(session=session, actor=actor, username="carla", password=password)
    with db.read() as session:
        assert authenticate(session=session, username="carla", password=LONGEST)


@pytest.mark.parametrize("username", ["carla", "nobody"])
def test_signing_in_with_a_password_over_72_bytes_is_a_wrong_password(db, username):
    _create(db, "correct-horse-42")
    long_one = "correct-horse-42" + "-and-more" * 8
    with pytest.raises(AuthenticationFailure):
        sign_in(db, username=username, password=long_one, sleep=lambda _: None)
    with db.read() as session, pytest.raises(AuthenticationFailure):
        authenticate(session=session, username=username, password=long_one)


@pytest.mark.parametrize("command", ["create-user", "set-password"])
def test_the_command_line_refuses_a_password_over_72_bytes(db, monkeypatch, capsys, command):
    _create(db, "correct-horse-42", username="petr")
    url = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{LONG_PASSPHRASES[0]}\n"))
    name = "olga" if command == "create-user" else "petr"
    assert main(["--database-url", url, command, name, "--password-stdin"]) == 1
    printed = capsys.readouterr()
    assert f"error: password: {TOO_LONG}\n" in printed.err
    assert "Traceback" not in printed.out + printed.err
    with db.read() as session:
        assert [u.username for u in list_users(session=session)] == ["petr"]
        assert authenticate(session=session, username="petr", password="correct-horse-42")


def test_the_users_page_refuses_a_password_over_72_bytes(open_app):
    at = open_app(as_user="mona", page="pages/users.py")
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input("carla")
    fields["Password"].input(LONG_PASSPHRASES[0])
    fields["Password again"].input(LONG_PASSPHRASES[0])
    at.button(key="FormSubmitter:create-user-Create user").click().run()
    assert not at.exception
    (message,) = texts(at.error)
    assert f"**Password**: {TOO_LONG}" in message
    at.segmented_control[0].set_value("Reset a password").run()
    fields = {field.label: field for field in at.text_input}
    fields["New password"].input(LONG_PASSPHRASES[1])
    fields["New password again"].input(LONG_PASSPHRASES[1])
    at.button(key="FormSubmitter:reset-password-Reset password").click().run()
    assert not at.exception
    (message,) = texts(at.error)
    assert f"**Password**: {TOO_LONG}" in message


@pytest.mark.parametrize("username", ["mona", "nobody"])
def test_the_sign_in_form_answers_a_password_over_72_bytes_as_a_wrong_one(open_app, username):
    at = open_app()
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input(username)
    fields["Password"].input(("a passphrase that goes on " * 4)[:87])
    at.button[0].click().run()
    assert not at.exception
    assert texts(at.error) == ["Unknown username or wrong password. Check both and try again."]
