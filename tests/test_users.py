from __future__ import annotations

import pytest

from core.access import passwords
from core.access.auth import sign_in
from core.access.users import (
    authenticate,
    create_user,
    delete_user,
    get_user,
    list_users,
    set_active,
    set_password,
    set_role,
    username_rules,
)
from core.domain import Role
from core.errors import (
    AuthenticationFailure,
    DuplicateUser,
    InvalidInput,
    LastManager,
    MissingPermission,
)
from core.models import User
from tests.factories import MANAGER, USER

GOOD = "correct-horse-42"


def _create(db, username="carla", role="user", password=GOOD, actor=MANAGER):
    with db.write() as session:
        return create_user(
            session=session, actor=actor, username=username, password=password, role=role
        )


def test_create_and_authenticate(db):
    created = _create(db, username=" Carla ", role="MANAGER")
    assert (created.username, created.role) == ("carla", Role.MANAGER)
    with db.read() as session:
        assert authenticate(session=session, username="CARLA", password=GOOD) == created
        stored = session.query(User).one()
        assert stored.password_hash.startswith("$2") and GOOD not in stored.password_hash
        with pytest.raises(AuthenticationFailure):
            authenticate(session=session, username="carla", password=GOOD + "x")
        with pytest.raises(AuthenticationFailure):
            authenticate(session=session, username="nobody", password=GOOD)


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("x", GOOD, "username"),
        ("bad name", GOOD, "username"),
        ("carla", "short1", "password"),
        ("carla", "onlyletterslong", "password"),
        ("carla", "1234567890123", "password"),
        ("carla", "carla", "password"),
    ],
)
def test_bad_users_are_refused(db, username, password, field):
    with pytest.raises(InvalidInput) as caught:
        _create(db, username=username, password=password)
    assert caught.value.problems[0].field == field
    with db.read() as session:
        assert list_users(session=session) == []


def test_the_password_rules_text_follows_the_policy(monkeypatch):
    assert f"At least {passwords.MIN_PASSWORD_LENGTH} characters" in passwords.password_rules()
    monkeypatch.setattr(passwords, "MIN_PASSWORD_LENGTH", 14)
    assert passwords.password_rules().startswith("At least 14 characters")
    with pytest.raises(InvalidInput, match="must be at least 14 characters long"):
        passwords.check_password_strength("a-good-pw-13")


def test_the_username_rules_text_is_the_refusal(db):
    with pytest.raises(InvalidInput) as caught:
        _create(db, username="x")
    assert caught.value.problems[0].reason == f"must be {username_rules()}"


def test_duplicate_and_role_checks(db):
    _create(db)
    with pytest.raises(DuplicateUser):
        _create(db, username="CARLA")
    with pytest.raises(MissingPermission):
        _create(db, username="dave", actor=USER)
    with pytest.raises(InvalidInput, match="role"):
        _create(db, username="dave", role="admin")


def test_last_manager_stays(db):
    _create(db, username="boss", role="manager")
    with db.write() as session, pytest.raises(LastManager):
        set_role(session=session, actor=MANAGER, username="boss", role="user")
    _create(db, username="deputy", role="manager")
    with db.write() as session:
        assert set_role(session=session, actor=MANAGER, username="boss", role="user").role is (
            Role.USER
        )


def test_passwords_are_reset_by_managers_or_oneself(db):
    _create(db)
    with db.write() as session:
        set_password(session=session, actor=MANAGER, username="carla", password="new-secret-99")
    with db.read() as session:
        authenticate(session=session, username="carla", password="new-secret-99")
    with db.write() as session, pytest.raises(MissingPermission):
        set_password(session=session, actor=USER, username="carla", password="other-secret-99")


def _in_a_thread(work):
    """Run ``work`` in a thread; ``(thread, outcome)``, the outcome filled once it ends."""
    import threading

    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_two_managers_demoting_each_other_at_once_leave_one_manager(db):
    """The count of managers is taken under a lock: the second demotion waits for the first
    to commit and then sees it (on SQLite every write waits its turn anyway)."""
    _create(db, username="boss", role="manager")
    _create(db, username="deputy", role="manager")
    with db.write() as first:
        set_role(session=first, actor=MANAGER, username="boss", role="user")

        def demote_the_other() -> object:
            with db.write() as second:
                return set_role(session=second, actor=MANAGER, username="deputy", role="user")

        thread, outcome = _in_a_thread(demote_the_other)
        thread.join(timeout=2)  # without the lock it is done by now, having counted two
    thread.join()
    (second_outcome,) = outcome
    assert isinstance(second_outcome, LastManager)
    with db.read() as session:
        assert [u.username for u in list_users(session=session) if u.role is Role.MANAGER] == [
            "deputy"
        ]


def test_two_creations_of_one_name_at_once_are_a_duplicate_not_a_crash(db):
    with db.write() as first:
        _create_in(first, "carla")
        thread, outcome = _in_a_thread(lambda: _create(db, username="CARLA"))
        thread.join(timeout=2)
    thread.join()
    (second_outcome,) = outcome
    assert isinstance(second_outcome, DuplicateUser)
    with db.read() as session:
        assert [u.username for u in list_users(session=session)] == ["carla"]


def _create_in(session, username):
    return create_user(session=session, actor=MANAGER, username=username, password=GOOD)


def test_the_last_active_manager_is_neither_deactivated_nor_deleted(db):
    _create(db, username="boss", role="manager")
    for remove in (
        lambda session: set_active(session=session, actor=MANAGER, username="boss", active=False),
        lambda session: delete_user(session=session, actor=MANAGER, username="boss"),
    ):
        with db.write() as session, pytest.raises(LastManager):
            remove(session)
    with db.read() as session:
        assert get_user(session=session, username="boss").active


def test_a_deactivated_user_with_the_right_password_is_told_so_and_no_one_else(db):
    _create(db)
    with db.write() as session:
        set_active(session=session, actor=MANAGER, username="carla", active=False)

    def refusal(username: str, password: str) -> str:
        with pytest.raises(AuthenticationFailure) as refused:
            sign_in(db, username=username, password=password, sleep=lambda _seconds: None)
        return str(refused.value)

    assert refusal("carla", GOOD) == "this account is deactivated: ask a manager"
    # A wrong password, and an unknown name, learn nothing about the account.
    assert refusal("carla", GOOD + "x") == "unknown username or wrong password"
    assert refusal("nobody", GOOD) == "unknown username or wrong password"
