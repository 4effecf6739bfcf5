"""An open session follows the database on its next run: a removed user is signed out, a
demoted manager loses the manager pages, and a promoted user gains them. ``app.py`` reads the
user and role on every run; these tests change the database between two runs of one session.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from core.domain import Role
from core.models import User
from core.users import set_role
from tests.factories import MANAGER
from tests.pages.conftest import add_user, everything, texts

pytestmark = pytest.mark.every_backend  # the app on SQLite and on PostgreSQL

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
