"""An open session follows the database on its next run: a removed or deactivated user is
signed out (a deactivation for good), and so is one whose role changed (they sign in again
with the new one); a sign-in that overlaps a reset or deactivation does not outlive it.
``app.py`` reads the user and role on every run; these tests change the database between two
runs of one session.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from core.access import auth
from core.access.auth import session_user
from core.access.users import set_active, set_password, set_role
from core.domain import Role
from core.models import SignInSession, User
from tests.factories import MANAGER
from tests.pages.conftest import PASSWORD, add_user, everything, texts
from views.sign_in import SESSION_ID

pytestmark = pytest.mark.every_backend  # the app on SQLite and on PostgreSQL

NEW = "brand-new-key-31"
MANAGER_PAGES = ("pages/manage-components.py", "pages/measurements.py", "pages/users.py")


def test_a_deleted_users_session_ends_on_the_next_run(open_app, app_db):
    at = open_app(as_user="ulf")
    assert texts(at.title) == ["Overview"]
    with app_db.write() as session:
        session.execute(delete(User).where(User.username == "ulf"))
    at.run()
    assert (
        "Your password or role was changed, your account was deactivated or removed"
        in everything(at)
    )
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert not at.session_state["authentication_status"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/components.py")


@pytest.mark.parametrize(
    ("username", "role", "new_role"), [("max", Role.MANAGER, "user"), ("ulf", Role.USER, "manager")]
)
def test_a_role_change_ends_the_session_on_the_next_run(open_app, app_db, username, role, new_role):
    """A demotion (and a promotion) ends every sign-in of the account; signing in again
    gives the new role's pages."""
    if role is Role.MANAGER:
        add_user(app_db, username, role)  # mona stays, so max is not the last manager
    at = open_app(as_user=username, page="pages/users.py" if role is Role.MANAGER else None)
    with app_db.write() as session:
        set_role(session=session, actor=MANAGER, username=username, role=new_role)
        recorded = session.scalar(
            select(func.count())
            .select_from(SignInSession)
            .where(SignInSession.username == username)
        )
    assert recorded == 0
    at.run()
    assert "Your password or role was changed" in everything(at)
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert not at.session_state["authentication_status"]
    for page in MANAGER_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    again = open_app(as_user=username, page="pages/users.py")
    if new_role == "manager":
        assert texts(again.title) == ["Users"]
    else:
        assert texts(again.error)[0].startswith("Only a manager may")


def test_a_deactivated_users_session_ends_on_the_next_run(open_app, app_db):
    """The row's flag alone ends it (an operator may set it in the database), with the
    session still recorded: the check of ``active`` on every run is what signs them out."""
    at = open_app(as_user="ulf")
    assert texts(at.title) == ["Overview"]
    with app_db.write() as session:
        session.execute(update(User).where(User.username == "ulf").values(active=False))
    at.run()
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert not at.session_state["authentication_status"]
    assert "Overview" not in texts(at.title)


def test_a_deactivation_ends_the_users_sign_ins_for_good(open_app, app_db):
    at = open_app(as_user="ulf")
    session_id = at.session_state[SESSION_ID]
    with app_db.write() as session:
        set_active(session=session, actor=MANAGER, username="ulf", active=False)
        set_active(session=session, actor=MANAGER, username="ulf", active=True)
    with app_db.read() as session:  # a copy of its cookie names a sign-in that is gone
        assert session_user(session=session, username="ulf", session_id=session_id) is None
    at.run()
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert not at.session_state["authentication_status"]


@pytest.mark.parametrize("change", ["password reset", "deactivated and reactivated"])
def test_a_sign_in_that_overlaps_a_reset_or_deactivation_does_not_outlive_it(
    change, open_app, app_db, monkeypatch
):
    """The change commits after the form's sign-in checked the old password and before its
    session is recorded: the worst interleaving, every time. The sign-in is refused, and no
    later run is signed in."""
    authenticate = auth.authenticate

    def authenticate_then_change(**arguments: Any) -> Any:
        user = authenticate(**arguments)
        with app_db.write() as session:
            if change == "password reset":
                set_password(session=session, actor=MANAGER, username="ulf", password=NEW)
            else:
                set_active(session=session, actor=MANAGER, username="ulf", active=False)
                set_active(session=session, actor=MANAGER, username="ulf", active=True)
        return user

    monkeypatch.setattr(auth, "authenticate", authenticate_then_change)
    at = open_app()
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input("ulf")
    fields["Password"].input(PASSWORD)
    at.button[0].click().run()
    monkeypatch.undo()
    at.run()
    assert not at.session_state["authentication_status"]
    assert "Overview" not in texts(at.title)
    with app_db.read() as session:
        assert session.scalar(select(func.count()).select_from(SignInSession)) == 0
