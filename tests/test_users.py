from __future__ import annotations

import pytest

from core.domain import Role
from core.errors import (
    AuthenticationFailed,
    DuplicateUser,
    InvalidInput,
    LastManager,
    PermissionDenied,
)
from core.models import User
from core.users import authenticate, create_user, list_users, set_password, set_role
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
        with pytest.raises(AuthenticationFailed):
            authenticate(session=session, username="carla", password=GOOD + "x")
        with pytest.raises(AuthenticationFailed):
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


def test_duplicate_and_role_checks(db):
    _create(db)
    with pytest.raises(DuplicateUser):
        _create(db, username="CARLA")
    with pytest.raises(PermissionDenied):
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
    with db.write() as session, pytest.raises(PermissionDenied):
        set_password(session=session, actor=USER, username="carla", password="other-secret-99")
