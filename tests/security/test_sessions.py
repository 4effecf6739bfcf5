"""An open session follows the database on its next run: a removed or deactivated user is
signed out (a deactivation for good), a demoted manager loses the manager pages, and a promoted
user gains them; a sign-in that overlaps a reset or deactivation does not outlive it.
``app.py`` reads the user and role on every run; these tests change the database between two
runs of one session.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from core import auth
from core.auth import session_user
from core.domain import Role
from core.models import SignInSession, User
from core.users import set_active, set_password, set_role
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
    assert "Your password was changed or your account removed" in everything(at)
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert not at.session_state["authentication_status"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/components.py")


def test_a_demoted_manager_loses_the_manager_pages_on_the_next_run(open_app, app_db):
    add_user(app_db, "max", Role.MANAGER)  # mona stays, so max is not the last manager
    at = open_app(as_user="max", page="pages/users.py")
    assert texts(at.title) == ["Users"]
    with app_db.write() as session:
        set_role(session=session, actor=MANAGER, username="max", role="user")
    at.run()
    # The page they had open refuses them, and so does every manager page (the sidebar no
    # longer lists them: tests/e2e/test_browser.py).
    assert "Users" not in texts(at.title)
    assert "`max` · user" in everything(at)
    for page in MANAGER_PAGES:
        at.switch_page(page).run()
        assert texts(at.error)[0].startswith("Only a manager may"), page
        assert not at.title
    at.switch_page("pages/components.py").run()
    assert texts(at.title) == ["Components"]


def test_a_promoted_user_gains_the_manager_pages_on_the_next_run(open_app, app_db):
    at = open_app(as_user="ulf")
    at.switch_page("pages/users.py").run()
    assert texts(at.error) == [
        "Only a manager may manage users. Ask a manager if this needs doing."
    ]
    with app_db.write() as session:
        set_role(session=session, actor=MANAGER, username="ulf", role="manager")
    at.run()
    assert "`ulf` · manager" in everything(at)
    at.switch_page("pages/users.py").run()
    assert texts(at.title) == ["Users"]


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
