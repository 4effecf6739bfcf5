"""Whatever is typed into the sign-in form is an answer, never a crash: names and passwords
that no user can have (a NUL, a lone surrogate, far too long, another script) are refused as
an unknown name or wrong password, and counted like any other attempt, on both databases."""

from __future__ import annotations

import pytest

from core.access.auth import SignInPolicy, sign_in
from core.access.users import create_user, set_password
from core.errors import AuthenticationFailure, InvalidInput, SignInLockout
from tests.factories import MANAGER

RIGHT = "correct-horse-42"
ODD_NAMES = ["car\x00la", "carla\ud800", "c" * 500, "ĉárlä", "carla\x85x", " ", "💡" * 70]
ODD_PASSWORDS = ["correct-horse-42\x00", "correct\ud800horse-42", "💡" * 19, "\t" * 12]


@pytest.fixture
def carla(db):
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="carla", password=RIGHT)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_name_is_an_unknown_one_and_is_counted(db, carla, name):
    policy = SignInPolicy(max_failures=2)
    with pytest.raises(AuthenticationFailure):
        sign_in(db, username=name, password=RIGHT, policy=policy, sleep=lambda _: None)
    with pytest.raises(SignInLockout):
        sign_in(db, username=name, password=RIGHT, policy=policy, sleep=lambda _: None)
    assert sign_in(db, username="carla", password=RIGHT).username == "carla"


@pytest.mark.parametrize("password", ODD_PASSWORDS)
def test_an_odd_password_is_a_wrong_one(db, carla, password):
    for name in ("carla", "nobody"):
        with pytest.raises(AuthenticationFailure):
            sign_in(db, username=name, password=password, sleep=lambda _: None)


@pytest.mark.parametrize("password", ["correct-horse-42\x00", "correct\ud800horse-42"])
def test_a_password_with_a_character_no_one_can_type_is_refused_where_it_is_set(
    db, carla, password
):
    refused = pytest.raises(InvalidInput, match="must not contain control characters")
    with refused, db.write() as session:
        set_password(session=session, actor=MANAGER, username="carla", password=password)
    assert sign_in(db, username="carla", password=RIGHT).username == "carla"
