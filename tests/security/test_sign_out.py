"""Signing out ends that sign-in on the server: a copy of its cookie taken before is refused
afterwards, in a new browser and in one already open with it, while the user's other
sign-ins go on. A password reset still ends them all.

``core.access.auth``'s sign-in records are checked directly on both databases; then the real
``app.py``: one browser signs in through the form, the cookie it is told to store is copied
into others, and the first signs out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from extra_streamlit_components import CookieManager
from sqlalchemy import select
from streamlit.runtime.context import ContextProxy

from core.access.auth import cookie_sign_in, end_session, session_user, start_session
from core.access.users import create_user, delete_user, set_active, set_password
from core.models import SignInSession
from tests.factories import MANAGER
from tests.pages.conftest import PASSWORD, everything, sign_in_as, texts
from views.sign_in import COOKIE_NAME

WEEK = timedelta(days=7)


@pytest.fixture
def carla(db):
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="carla", password="correct-horse-42")


def _user(db, session_id: str, username: str = "carla") -> str | None:
    with db.read() as session:
        user = session_user(session=session, username=username, session_id=session_id)
    return user.username if user else None


def test_signing_out_ends_that_sign_in_only(db, carla):
    first = start_session(db, username="carla", lifetime=WEEK)
    second = start_session(db, username="carla", lifetime=WEEK)
    assert _user(db, first) == _user(db, second) == "carla"
    end_session(db, session_id=first)
    assert _user(db, first) is None
    assert _user(db, second) == "carla"
    with db.read() as session:
        copied = cookie_sign_in(
            session=session,
            username="carla",
            issued_at=datetime.now(UTC) - timedelta(minutes=1),
            session_id=first,
        )
    assert copied is None


def test_a_sign_in_holds_for_its_user_until_it_expires_or_the_password_changes(db, carla):
    session_id = start_session(db, username="carla", lifetime=WEEK)
    assert _user(db, session_id, username="mona") is None  # not another user's
    assert _user(db, "a-made-up-id") is None
    with db.read() as session:
        later = session_user(
            session=session,
            username="carla",
            session_id=session_id,
            now=lambda: datetime.now(UTC) + WEEK + timedelta(seconds=1),
        )
    assert later is None
    with db.write() as session:
        set_password(session=session, actor=MANAGER, username="carla", password="new-horse-43")
    assert _user(db, session_id) is None


@pytest.mark.parametrize("change", ["password reset", "deactivation", "removal"])
def test_a_reset_deactivation_or_removal_deletes_the_users_sign_in_records(db, carla, change):
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="mona", password="other-horse-44")
    theirs = start_session(db, username="carla", lifetime=WEEK)
    other = start_session(db, username="mona", lifetime=WEEK)
    with db.write() as session:
        if change == "password reset":
            set_password(session=session, actor=MANAGER, username="carla", password="new-horse-43")
        elif change == "deactivation":
            set_active(session=session, actor=MANAGER, username="carla", active=False)
        else:
            delete_user(session=session, actor=MANAGER, username="carla")
    with db.read() as session:
        holders = set(session.scalars(select(SignInSession.username)))
    assert holders == {"mona"}  # the record is gone, not merely refused; others stay
    assert _user(db, theirs) is None
    assert _user(db, other, username="mona") == "mona"


# --- the app ----------------------------------------------------------------------------


@pytest.fixture
def browser_cookies(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The cookie every browser sends (``st.context.cookies``), and below, what the app told
    a browser to store: copying one into the other is what an attacker with the cookie does."""
    sent: dict[str, str] = {}
    monkeypatch.setattr(ContextProxy, "cookies", property(lambda self: sent))
    return sent


@pytest.fixture
def stored_cookies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    stored: list[str] = []
    real_set = CookieManager.set

    def set_cookie(self, cookie: str, val: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if cookie == COOKIE_NAME:
            stored.append(val)
        return real_set(self, cookie, val, *args, **kwargs)

    monkeypatch.setattr(CookieManager, "set", set_cookie)
    return stored


def _signed_in_as(at) -> str | None:
    text = everything(at)
    for name in ("mona", "ulf"):
        if f"`{name}` ·" in text:
            return name
    return None


def _sign_in_through_the_form(open_app: Callable, username: str):
    at = open_app()
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input(username)
    fields["Password"].input(PASSWORD)
    at.button[0].click().run()
    assert _signed_in_as(at) == username
    return at


def test_a_cookie_copied_before_sign_out_is_refused_after_it(
    open_app, app_db, browser_cookies, stored_cookies
):
    mine = _sign_in_through_the_form(open_app, "ulf")
    (cookie,) = stored_cookies
    browser_cookies[COOKIE_NAME] = cookie
    copy = open_app()  # another browser with the copied cookie: signed in by it
    assert _signed_in_as(copy) == "ulf"
    elsewhere = open_app(as_user="ulf")  # ulf's own sign-in in a third browser

    mine.sidebar.button[0].click().run()
    assert [field.label for field in mine.text_input] == ["Username", "Password"]

    fresh = open_app()  # the copy, sent by a browser that was not open
    assert _signed_in_as(fresh) is None
    assert [field.label for field in fresh.text_input] == ["Username", "Password"]
    copy.run()  # the browser that was open with the copy, on its next click
    assert _signed_in_as(copy) is None
    assert "Please sign in again" in everything(copy)
    browser_cookies.clear()
    elsewhere.run()  # another sign-in of the same user goes on
    assert _signed_in_as(elsewhere) == "ulf"
    assert texts(elsewhere.title) == ["Overview"]


def test_a_session_without_a_recorded_sign_in_is_not_signed_in(open_app, app_db):
    at = open_app(as_user="ulf")
    session_id = at.session_state["gridboard.sign_in_session"]
    end_session(app_db, session_id=session_id)
    at.run()
    assert _signed_in_as(at) is None
    again = open_app()
    sign_in_as(again, app_db, "ulf")
    del again.session_state["gridboard.sign_in_session"]
    again.run()
    assert _signed_in_as(again) is None
