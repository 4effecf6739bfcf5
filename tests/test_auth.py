from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.access import auth
from core.access.auth import (
    SignInPolicy,
    cookie_issued_at,
    cookie_key,
    list_credentials,
    sign_in,
    user_still_signed_in,
)
from core.access.users import create_user, set_password
from core.config import Settings
from core.domain import Role
from core.errors import AuthenticationFailure, ConfigurationError, SignInLockout
from tests.factories import MANAGER

GOOD = "correct-horse-42"
WRONG = "wrong-password-1"
POLICY = SignInPolicy(
    max_failures=3, window=timedelta(minutes=10), lock=timedelta(minutes=15), max_delay_seconds=4
)
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def carla(db):
    with db.write() as session:
        return create_user(
            session=session, actor=MANAGER, username="carla", password=GOOD, role="manager"
        )


def _try(db, clock, username="carla", password=WRONG):
    return sign_in(
        db, username=username, password=password, policy=POLICY, now=clock, sleep=clock.sleep
    )


def test_the_right_password_signs_in(db, clock, carla):
    assert _try(db, clock, username=" CARLA ", password=GOOD) == carla
    assert clock.slept == []


def test_failures_are_slowed_then_locked_for_a_while(db, clock, carla):
    for _ in range(2):
        with pytest.raises(AuthenticationFailure):
            _try(db, clock)
    assert clock.slept == [0.5, 1.0]
    with pytest.raises(SignInLockout) as locked:
        _try(db, clock)
    assert locked.value.until == T0 + POLICY.lock
    assert "try again after 12:15 UTC" in str(locked.value)
    # Even the right password is refused while locked...
    clock.now = T0 + timedelta(minutes=14)
    with pytest.raises(SignInLockout):
        _try(db, clock, password=GOOD)
    # ...and accepted once the lock is over.
    clock.now = T0 + timedelta(minutes=15, seconds=1)
    assert _try(db, clock, password=GOOD).username == "carla"


def test_a_success_forgets_earlier_failures(db, clock, carla):
    for _ in range(2):
        with pytest.raises(AuthenticationFailure):
            _try(db, clock)
    _try(db, clock, password=GOOD)
    for _ in range(2):
        with pytest.raises(AuthenticationFailure):
            _try(db, clock)


def test_a_success_keeps_the_guesses_counted_while_its_password_was_checked(
    db, clock, carla, monkeypatch
):
    """A burst of guesses that includes the right password: the guess counted while the right
    one was being checked still counts after its success, so the burst gets no fresh tries."""
    real_authenticate = auth.authenticate

    def authenticate_during_a_guess(*, session, username, password):
        if password == GOOD:  # another client's guess is counted meanwhile
            with pytest.raises(AuthenticationFailure):
                _try(db, clock)
        return real_authenticate(session=session, username=username, password=password)

    monkeypatch.setattr(auth, "authenticate", authenticate_during_a_guess)
    assert _try(db, clock, password=GOOD).username == "carla"
    monkeypatch.setattr(auth, "authenticate", real_authenticate)
    # Three attempts counted (the right one, the guess beside it, this one): locked.
    with pytest.raises(SignInLockout):
        _try(db, clock)
    with pytest.raises(SignInLockout):
        _try(db, clock, password=GOOD)


def test_failures_outside_the_window_do_not_add_up(db, clock, carla):
    for minutes in (0, 11, 22, 33):
        clock.now = T0 + timedelta(minutes=minutes)
        with pytest.raises(AuthenticationFailure):
            _try(db, clock)
    assert clock.slept == [0.5] * 4


def test_every_spelling_of_a_name_shares_its_tries(db, clock, carla):
    """Case and surrounding whitespace do not buy more guesses: they fold to one name."""
    five = SignInPolicy(max_failures=5, window=POLICY.window, lock=POLICY.lock)
    spellings = ["CARLA", "Carla", " carla", "carla\t", " cArLa "]
    for spelling in spellings[:-1]:
        with pytest.raises(AuthenticationFailure):
            sign_in(
                db, username=spelling, password=WRONG, policy=five, now=clock, sleep=clock.sleep
            )
    with pytest.raises(SignInLockout) as locked:
        sign_in(
            db, username=spellings[-1], password=WRONG, policy=five, now=clock, sleep=clock.sleep
        )
    assert locked.value.username == "carla"
    assert clock.slept == [0.5, 1.0, 2.0, 4.0, 4.0]
    with pytest.raises(SignInLockout):
        sign_in(db, username="carla", password=GOOD, policy=five, now=clock, sleep=clock.sleep)


def _fail_twice_then_at(db, clock, moment):
    """Two failures at T0 (one short of the lock), then one more at ``moment``."""
    for _ in range(POLICY.max_failures - 1):
        with pytest.raises(AuthenticationFailure):
            _try(db, clock)
    clock.now = moment
    _try(db, clock)


def test_a_failure_just_before_the_windows_end_counts_in_that_window(db, clock, carla):
    with pytest.raises(SignInLockout):
        _fail_twice_then_at(db, clock, T0 + POLICY.window - timedelta(microseconds=1))


def test_a_failure_exactly_at_the_windows_end_starts_a_new_window(db, clock, carla):
    """The window is half open, [first failure, first failure + window): the count starts
    again at its end, so this failure is the first of a new window, not the last of the old."""
    with pytest.raises(AuthenticationFailure):
        _fail_twice_then_at(db, clock, T0 + POLICY.window)
    assert clock.slept == [0.5, 1.0, 0.5]
    for _ in range(POLICY.max_failures - 2):  # a new window needs all its failures to lock
        with pytest.raises(AuthenticationFailure):
            _try(db, clock)
    with pytest.raises(SignInLockout):
        _try(db, clock)


def test_a_lock_ends_exactly_at_its_end(db, clock, carla):
    for _ in range(POLICY.max_failures):
        with pytest.raises((AuthenticationFailure, SignInLockout)):
            _try(db, clock)
    clock.now = T0 + POLICY.lock - timedelta(microseconds=1)
    with pytest.raises(SignInLockout):
        _try(db, clock, password=GOOD)
    clock.now = T0 + POLICY.lock
    assert _try(db, clock, password=GOOD) == carla


def test_locked_attempts_wait_the_longest_delay_and_no_longer(db, clock, carla):
    """The delay doubles per failure up to ``max_delay_seconds``; every refusal while locked
    waits exactly that cap, however many come (1.5 s uncapped here, then more)."""
    capped = SignInPolicy(
        max_failures=3, window=POLICY.window, lock=POLICY.lock, max_delay_seconds=0.75
    )
    for _ in range(6):
        with pytest.raises((AuthenticationFailure, SignInLockout)):
            sign_in(
                db, username="carla", password=WRONG, policy=capped, now=clock, sleep=clock.sleep
            )
    assert clock.slept == [0.5, 0.75, 0.75, 0.75, 0.75, 0.75]


def test_unknown_names_are_refused_like_known_ones(db, clock, carla):
    outcomes = {}
    for name in ("carla", "nobody"):
        clock.slept = []
        seen = []
        for _ in range(POLICY.max_failures):
            with pytest.raises((AuthenticationFailure, SignInLockout)) as refused:
                _try(db, clock, username=name)
            seen.append(type(refused.value).__name__)
        outcomes[name] = (seen, clock.slept)
    assert outcomes["carla"] == outcomes["nobody"]


def test_unknown_and_known_names_cost_the_same_bcrypt_work(db, carla, monkeypatch):
    """A refusal's time is the bcrypt check: an unknown name gets one too, against a hash of
    the same cost as a real user's, so the time does not tell names apart. (Counted, not
    timed: wall-clock comparisons flake on a shared machine.)"""
    import bcrypt

    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)

    def bcrypt_costs(username: str) -> list[bytes]:
        checked.clear()
        with pytest.raises(AuthenticationFailure):
            sign_in(db, username=username, password="wrong-password-1", sleep=lambda _: None)
        return [hashed.split(b"$")[2] for hashed in checked]  # "$2b$12$..." -> b"12"

    known = bcrypt_costs("carla")
    assert known == bcrypt_costs("nobody") == [known[0]]
    assert int(known[0]) >= 12


def test_a_new_password_ends_the_lock(db, clock, carla):
    for _ in range(POLICY.max_failures):
        with pytest.raises((AuthenticationFailure, SignInLockout)):
            _try(db, clock)
    with db.write() as session:
        set_password(session=session, actor=MANAGER, username="carla", password="new-horse-43")
    assert _try(db, clock, password="new-horse-43").username == "carla"


def test_credentials_carry_hashes_not_passwords(db, carla):
    with db.read() as session:
        (credential,) = list_credentials(session=session)
    assert credential.username == "carla" and credential.role is Role.MANAGER
    assert credential.password_hash.startswith("$2") and GOOD not in credential.password_hash


def test_a_sign_in_ends_with_a_password_change_or_the_user(db, carla):
    issued = datetime.now(UTC)  # after carla was created: her sign-in holds until a change
    with db.read() as session:
        assert user_still_signed_in(session=session, username="carla", since=issued) == carla
        assert user_still_signed_in(session=session, username="ghost", since=issued) is None
    with db.write() as session:
        set_password(session=session, actor=MANAGER, username="carla", password="new-horse-43")
    with db.read() as session:
        assert user_still_signed_in(session=session, username="carla", since=issued) is None
        signed_in_again = datetime.now(UTC)
        assert user_still_signed_in(session=session, username="carla", since=signed_in_again)


def test_cookie_issue_time_comes_from_its_expiry():
    expires = datetime(2024, 5, 8, 12, tzinfo=UTC)
    assert cookie_issued_at(expires.timestamp(), 7) == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_cookie_key_outside_demo_must_be_real(tmp_path):
    real = "a-real-secret-of-32-characters!!"
    assert cookie_key(Settings(cookie_key=real), key_file=tmp_path / "k") == real
    assert cookie_key(Settings(), configured=real, key_file=tmp_path / "k") == real
    with pytest.raises(ConfigurationError, match="GRIDBOARD_COOKIE_KEY"):
        cookie_key(Settings(cookie_key="changeme"), key_file=tmp_path / "k")
    assert not (tmp_path / "k").exists()


def test_demo_cookie_key_is_made_once_and_kept(tmp_path):
    demo = Settings(demo=True, cookie_key="changeme")
    first = cookie_key(demo, key_file=tmp_path / "data" / "cookie_key")
    assert len(first) >= 32
    assert cookie_key(demo, key_file=tmp_path / "data" / "cookie_key") == first
    assert (tmp_path / "data" / "cookie_key").stat().st_mode & 0o077 == 0


def test_demo_cookie_key_lives_in_the_data_folder(tmp_path):
    """In an image the code's folder is read-only; the data folder is where writes go."""
    demo = Settings(demo=True, cookie_key="changeme", data_dir=tmp_path / "volume")
    key = cookie_key(demo)
    assert (tmp_path / "volume" / "cookie_key").read_text(encoding="utf-8").strip() == key
    assert cookie_key(demo) == key
