"""A sign-in cookie is honoured only when GridBoard signed it, it has not expired, and the
user it names still exists with the password they had when it was issued.

``core.access.auth.read_sign_in_cookie`` is checked directly; then the real ``app.py`` is run with
the cookie in the request (``st.context.cookies``, which is where streamlit-authenticator and
GridBoard read it from in a browser).
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from streamlit.runtime.context import ContextProxy

from core.access.auth import CookieClaim, read_sign_in_cookie, start_session
from core.access.users import set_password
from tests.factories import MANAGER
from tests.pages.conftest import COOKIE_KEY, everything, texts
from views.sign_in import COOKIE_EXPIRY_DAYS, COOKIE_NAME

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
KEY = "the-servers-own-key-of-32-chars!!"


def _token(payload: dict[str, object], key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def _hs512(payload: dict[str, object], key: str) -> str:
    """A token signed with HS512, which GridBoard never writes (the key is short for it on
    purpose: the attacker's choice, not a warning for this test run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, key, algorithm="HS512")


def _later(days: float = 1) -> float:
    return (NOW + timedelta(days=days)).timestamp()


def _read(token: str) -> CookieClaim | None:
    return read_sign_in_cookie(token, key=KEY, now=lambda: NOW)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_cookie_gridboard_signed_is_read():
    claim = _read(_token({"username": "ulf", "exp_date": _later(), "sid": "s-1"}))
    assert claim == CookieClaim(username="ulf", expires_at=_later(), session_id="s-1")


def test_a_cookie_signed_with_another_key_is_refused():
    attackers_key = "an-attackers-key-of-at-least-32-chars"
    forged = _token({"username": "ulf", "exp_date": _later()}, key=attackers_key)
    assert _read(forged) is None


def test_an_expired_cookie_is_refused():
    assert _read(_token({"username": "ulf", "exp_date": _later(days=-0.001), "sid": "s"})) is None


def test_a_tampered_payload_or_signature_is_refused():
    good = {"username": "ulf", "exp_date": _later(), "sid": "s-1"}
    header, payload, signature = _token(good).split(".")
    promoted = _b64(json.dumps({**good, "username": "mona"}).encode())
    assert _read(f"{header}.{promoted}.{signature}") is None
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _read(f"{header}.{payload}.{flipped}") is None
    assert _read(f"{header}.{payload}.") is None


@pytest.mark.parametrize(
    "token",
    [
        # alg "none": no signature at all
        _b64(b'{"alg":"none","typ":"JWT"}')
        + "."
        + _b64(json.dumps({"username": "mona", "exp_date": 9e12}).encode())
        + ".",
        # another algorithm with the right key: not what GridBoard writes
        _hs512({"username": "mona", "exp_date": 9e12}, KEY),
        # well signed, but not the payload GridBoard writes
        jwt.encode({"username": "mona"}, KEY, algorithm="HS256"),
        jwt.encode({"username": "mona", "exp_date": "tomorrow"}, KEY, algorithm="HS256"),
        jwt.encode({"username": "mona", "exp_date": True}, KEY, algorithm="HS256"),
        jwt.encode({"username": ["mona"], "exp_date": 9e12}, KEY, algorithm="HS256"),
        jwt.encode({"username": " ", "exp_date": 9e12}, KEY, algorithm="HS256"),
        # made before sign-ins were recorded: it names none that could be ended
        jwt.encode({"username": "mona", "exp_date": 9e12}, KEY, algorithm="HS256"),
        jwt.encode({"username": "mona", "exp_date": 9e12, "sid": 7}, KEY, algorithm="HS256"),
        "not a token at all",
        "",
    ],
    ids=[
        "alg-none",
        "hs512",
        "no-expiry",
        "text-expiry",
        "bool-expiry",
        "list-username",
        "blank-username",
        "no-sign-in",
        "number-sign-in",
        "garbage",
        "empty",
    ],
)
def test_a_malformed_cookie_is_refused_without_raising(token):
    assert _read(token) is None


# --- the app, with the cookie in the request ------------------------------------------------


@pytest.fixture
def send_cookie(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``send_cookie(token)``: the browser sends this sign-in cookie with the request."""
    cookies: dict[str, str] = {}
    monkeypatch.setattr(ContextProxy, "cookies", property(lambda self: cookies))

    def send(token: str) -> None:
        cookies[COOKIE_NAME] = token

    return send


def _app_token(
    username: str,
    *,
    key: str = COOKIE_KEY,
    issued: datetime | None = None,
    session_id: str = "a-sign-in-id",
) -> str:
    issued = issued or datetime.now(UTC)
    expires = issued + timedelta(days=COOKIE_EXPIRY_DAYS)
    payload = {"username": username, "exp_date": expires.timestamp(), "sid": session_id}
    return jwt.encode(payload, key, "HS256")


def _signed_in_cookie(database, username: str, **options) -> str:
    """The cookie a sign-in through the form leaves: it names a recorded sign-in."""
    session_id = start_session(
        database, username=username, lifetime=timedelta(days=COOKIE_EXPIRY_DAYS)
    )
    return _app_token(username, session_id=session_id, **options)


def _signed_out(at) -> bool:
    return [field.label for field in at.text_input] == ["Username", "Password"]


@pytest.mark.every_backend  # the user and the sign-in are read from the app's database
def test_the_app_honours_its_own_cookie(open_app, app_db, send_cookie):
    send_cookie(_signed_in_cookie(app_db, "ulf"))
    at = open_app()
    assert texts(at.title) == ["Overview"]
    assert "`ulf` · user" in everything(at)


@pytest.mark.parametrize(
    "token",
    [
        _app_token("mona", key="an-attackers-key-of-40-characters-long!!"),
        _app_token("mona", issued=datetime.now(UTC) - timedelta(days=COOKIE_EXPIRY_DAYS + 1)),
        _b64(b'{"alg":"none","typ":"JWT"}')
        + "."
        + _b64(json.dumps({"username": "mona", "exp_date": 9e12}).encode())
        + ".",
        _hs512({"username": "mona", "exp_date": 9e12}, COOKIE_KEY),
        jwt.encode({"username": "mona"}, COOKIE_KEY, algorithm="HS256"),
        "garbage.garbage.garbage",
    ],
    ids=["forged", "expired", "alg-none", "hs512", "no-expiry", "garbage"],
)
def test_the_app_refuses_a_bad_cookie_and_shows_the_sign_in_form(open_app, send_cookie, token):
    send_cookie(token)
    at = open_app()  # open_app asserts the page raised nothing
    assert _signed_out(at)
    assert "mona" not in everything(at)


@pytest.mark.every_backend  # the user is read from the app's database
def test_the_app_refuses_a_cookie_for_a_deleted_user(open_app, app_db, send_cookie):
    from sqlalchemy import delete

    from core.models import User

    with app_db.write() as session:
        session.execute(delete(User).where(User.username == "ulf"))
    send_cookie(_signed_in_cookie(app_db, "ulf"))
    at = open_app()
    assert _signed_out(at)
    assert "Please sign in again" in everything(at)


@pytest.mark.every_backend  # the user is read from the app's database
def test_the_app_refuses_a_cookie_issued_before_a_password_reset(open_app, app_db, send_cookie):
    send_cookie(_signed_in_cookie(app_db, "ulf"))  # issued now: ulf exists, his password is older
    assert texts(open_app().title) == ["Overview"]  # honoured until the reset...
    with app_db.write() as session:
        set_password(session=session, actor=MANAGER, username="ulf", password="brand-new-pw-9")
    at = open_app()  # ...and refused after it
    assert _signed_out(at)
    assert "Your sign-in has expired. Please sign in again." in everything(at)
