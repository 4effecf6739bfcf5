from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from core.access.users import set_password
from core.config import get_settings
from core.domain import Role
from core.models import SignInAttempt, utc_now
from tests.factories import MANAGER
from tests.pages.conftest import PASSWORD, add_user, everything, texts

pytestmark = pytest.mark.every_backend  # the app on SQLite and on PostgreSQL

MANAGER_PAGES = ("pages/manage-components.py", "pages/measurements.py", "pages/users.py")
GRID_PAGES = (
    "pages/overview.py",
    "pages/network.py",
    "pages/substation.py",
    "pages/components.py",
    "pages/alarms.py",
    "pages/reports.py",
)


def _sign_in(at, username, password):
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input(username)
    fields["Password"].input(password)
    at.button[0].click().run()
    return at


def test_signed_out_sees_only_the_sign_in_form(open_app):
    at = open_app()
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert [button.label for button in at.button] == ["Sign in"]
    assert "Ask a manager to create one" in everything(at)
    assert texts(at.title) == ["GridBoard"]
    for page in ("pages/components.py", "pages/users.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_signing_in_opens_the_overview_and_shows_who_is_signed_in(open_app):
    at = _sign_in(open_app(), "MONA", PASSWORD)
    assert not at.exception
    assert texts(at.title) == ["Overview"]
    assert "Signed in as **Mona**" in everything(at)
    assert "`mona` · manager" in everything(at)
    assert [b.label for b in at.sidebar.button] == ["Sign out"]


def test_an_empty_username_says_what_is_missing(open_app):
    at = _sign_in(open_app(), "  ", PASSWORD)
    assert "enter your username" in " ".join(texts(at.error))
    assert [field.label for field in at.text_input] == ["Username", "Password"]


def test_a_wrong_password_says_what_to_do(open_app):
    at = _sign_in(open_app(), "mona", "not-the-password-1")
    assert texts(at.error) == ["Unknown username or wrong password. Check both and try again."]
    assert texts(at.title) == ["GridBoard"]


def test_a_locked_name_is_told_when_to_try_again(open_app, app_db):
    until = utc_now() + timedelta(minutes=10)
    with app_db.write() as session:
        session.add(
            SignInAttempt(
                username="mona",
                failures=0,
                window_started_at=utc_now(),
                last_failure_at=utc_now(),
                locked_until=until,
            )
        )
    at = _sign_in(open_app(), "mona", PASSWORD)
    (message,) = texts(at.error)
    assert "Too many failed sign-ins for 'mona'" in message
    assert f"try again after {until:%H:%M} UTC" in message
    assert texts(at.title) == ["GridBoard"]


def test_the_lockout_says_when_on_the_browsers_clock(open_app, app_db):
    until = utc_now() + timedelta(minutes=10)
    with app_db.write() as session:
        session.add(SignInAttempt(username="mona", failures=0, locked_until=until))
    at = open_app()
    at.context = {"timezone": "America/New_York", "timezone_offset": 240}
    at = _sign_in(at.run(), "mona", PASSWORD)
    (message,) = texts(at.error)
    local = until.astimezone(ZoneInfo("America/New_York"))
    assert f"try again after {local:%H:%M} {local.tzname()}, or ask a manager" in message
    assert "UTC" not in message


def test_signing_out_returns_to_the_form(open_app):
    at = open_app(as_user="ulf")
    at.sidebar.button[0].click().run()
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert at.session_state["authentication_status"] is None


def test_the_form_after_signing_out_knows_a_user_added_meanwhile(open_app, app_db):
    """Signed-in runs read no credentials (only the form does): the form drawn when someone
    signs out signs in a user added while they were signed in."""
    at = open_app(as_user="ulf", page="pages/components.py")
    add_user(app_db, "nina", Role.USER)
    at.switch_page("pages/reports.py").run()
    at.sidebar.button[0].click().run()
    _sign_in(at, "nina", PASSWORD)
    assert texts(at.title) == ["Reports"]  # the page the form was on
    assert "`nina` · user" in everything(at)


def test_a_password_reset_ends_open_sessions(open_app, app_db):
    at = open_app(as_user="ulf")
    assert texts(at.title) == ["Overview"]
    with app_db.write() as session:
        set_password(session=session, actor=MANAGER, username="ulf", password="brand-new-pw-9")
    at.run()
    assert (
        "Your password or role was changed, your account was deactivated or removed"
        in everything(at)
    )
    assert [field.label for field in at.text_input] == ["Username", "Password"]


def test_a_user_sees_grid_and_reports_and_is_told_manager_pages_are_not_theirs(open_app):
    at = open_app(as_user="ulf")
    for page in GRID_PAGES:
        at.switch_page(page).run()
        assert not at.exception
    for page, action in zip(
        MANAGER_PAGES,
        (
            "create, edit, delete or import components",
            "add or import measurements",
            "manage users",
        ),
        strict=True,
    ):
        at.switch_page(page).run()  # what a user gets who types the page's URL
        assert texts(at.error) == [
            f"Only a manager may {action}. Ask a manager if this needs doing."
        ]
        assert not at.title and not at.button_group and not at.dataframe


def test_a_manager_reaches_every_page(open_app):
    at = open_app(as_user="mona")
    for page in (*GRID_PAGES, *MANAGER_PAGES):
        at.switch_page(page).run()
        assert not at.exception and not at.error, page


def test_without_a_cookie_key_the_app_refuses_to_start(open_app, monkeypatch):
    monkeypatch.setenv("GRIDBOARD_COOKIE_KEY", "changeme")
    get_settings.cache_clear()
    at = open_app()
    (message,) = texts(at.error)
    assert message.startswith("GRIDBOARD_COOKIE_KEY must be set to a random secret")
    assert not at.text_input
