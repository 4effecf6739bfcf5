"""Users: create users, change roles, reset passwords (manager only)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.access import passwords
from core.access.auth import sign_in
from core.access.users import get_user, username_rules
from core.domain import Actor, Role
from tests.pages.conftest import everything, texts

PAGE = "pages/users.py"
GOOD = "a-good-password-7"


def _fields(at):
    return {field.label: field for field in at.text_input}


def _create(at, username, password=GOOD, repeated=None, role=Role.USER):
    fields = _fields(at)
    fields["Username"].input(username)
    fields["Password"].input(password)
    fields["Password again"].input(password if repeated is None else repeated)
    at.radio[0].set_value(role)
    at.button(key="FormSubmitter:create-user-Create user").click().run()
    return at


def test_the_list_shows_every_user_and_role(open_app):
    at = open_app(as_user="mona", page=PAGE)
    users = at.dataframe[0].value
    assert list(users["Username"]) == ["mona", "ulf"]
    assert list(users["Role"]) == ["manager", "user"]


def test_a_manager_creates_a_user_who_can_sign_in(open_app, app_db):
    at = _create(open_app(as_user="mona", page=PAGE), "Carla", role=Role.MANAGER)
    assert "Created manager carla. Tell them their password." in everything(at)
    assert list(at.dataframe[0].value["Username"]) == ["carla", "mona", "ulf"]
    assert sign_in(app_db, username="carla", password=GOOD).role is Role.MANAGER


def test_the_form_explains_core_s_rules_and_follows_them(open_app, monkeypatch):
    monkeypatch.setattr(passwords, "MIN_PASSWORD_LENGTH", 14)
    at = open_app(as_user="mona", page=PAGE)
    fields = _fields(at)
    assert fields["Password"].help == passwords.password_rules()
    assert fields["Password"].help.startswith("At least 14 characters")
    assert fields["Username"].help == f"{username_rules()}."
    at = _create(at, "carla", password="a-good-pw-13")
    assert "**Password**: must be at least 14 characters long" in texts(at.error)[0]


def test_mistyped_and_weak_passwords_are_explained(open_app, app_db):
    at = _create(open_app(as_user="mona", page=PAGE), "carla", repeated="something-else-1")
    assert texts(at.error) == ["The two passwords differ. Type the same password twice."]
    at = _create(at, "carla", password="short")
    assert "**Password**: must be at least 10 characters long" in texts(at.error)[0]
    at = _create(at, "ulf")
    assert texts(at.error) == ["A user named 'ulf' already exists."]


def test_roles_change_but_the_last_manager_stays(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Change a role").run()
    at.selectbox[0].select("mona")
    at.radio[0].set_value(Role.USER)
    at.button(key="FormSubmitter:change-role-Change role").click().run()
    assert texts(at.error) == ["mona is the last manager: make another user a manager first."]
    at.selectbox[0].select("ulf")
    at.radio[0].set_value(Role.MANAGER)
    at.button(key="FormSubmitter:change-role-Change role").click().run()
    assert "ulf is now a manager." in everything(at)
    with app_db.read() as session:
        assert get_user(session=session, username="ulf").role is Role.MANAGER


def test_a_manager_resets_a_password(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Reset a password").run()
    at.selectbox[0].select("ulf")
    fields = _fields(at)
    fields["New password"].input(GOOD)
    fields["New password again"].input(GOOD)
    at.button(key="FormSubmitter:reset-password-Reset password").click().run()
    assert texts(at.success)[0].startswith("The password of ulf is changed.")
    assert sign_in(app_db, username="ulf", password=GOOD).username == "ulf"


def test_the_page_refuses_a_user_who_is_not_a_manager(app_db):
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / PAGE), default_timeout=30)
    at.session_state["gridboard.actor"] = Actor(username="ulf", role=Role.USER)
    at.run()
    assert texts(at.error) == [
        "Only a manager may manage users. Ask a manager if this needs doing."
    ]
    assert not at.dataframe


def _tokens_task(at):
    at.button_group[0].set_value("API tokens").run()
    return at


def test_a_manager_makes_a_token_sees_it_once_and_revokes_it(open_app, app_db):
    from core.access.api_tokens import read_machine_token

    at = _tokens_task(open_app(as_user="mona", page=PAGE))
    assert len(at.dataframe[1].value) == 0
    name_field = next(field for field in at.text_input if field.label == "Token name")
    name_field.input("scada-export")
    at.radio[0].set_value("write")
    at.button(key="FormSubmitter:create-token-Create token").click().run()
    secret = at.code[0].value
    assert secret.startswith("gbt_")
    assert "Copy it now: it is not shown again." in everything(at)
    assert read_machine_token(app_db, secret).role is Role.MANAGER
    tokens = at.dataframe[1].value
    assert list(tokens["Name"]) == ["scada-export"] and list(tokens["State"]) == ["active"]
    assert secret not in everything(at.run())  # shown once: the next run no longer has it
    at.selectbox[0].select_index(0)
    at.button(key="FormSubmitter:revoke-token-Revoke token").click().run()
    assert "Token scada-export is revoked: it no longer signs in." in everything(at)
    assert list(_tokens_task(at).dataframe[1].value["State"]) == ["revoked"]


def test_a_manager_deactivates_and_reactivates_a_user(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Deactivate or reactivate").run()
    at.selectbox[0].select("ulf")
    at.radio[0].set_value(False)
    at.button(key="FormSubmitter:set-active-Change status").click().run()
    assert "ulf is deactivated: they cannot sign in" in everything(at)
    assert list(at.dataframe[0].value["Status"]) == ["active", "deactivated"]
    at.selectbox[0].select("mona")
    at.radio[0].set_value(False)
    at.button(key="FormSubmitter:set-active-Change status").click().run()
    assert texts(at.error) == [
        "You cannot deactivate your own account (mona): ask another manager."
    ]


def test_a_manager_deletes_a_user_after_saying_yes_but_not_themselves(open_app, app_db):
    at = open_app(as_user="mona", page=PAGE)
    at.button_group[0].set_value("Delete a user").run()
    at.selectbox(key="delete-user.name").select("ulf").run()
    delete = next(b for b in at.button if b.label == "Delete user")
    assert delete.disabled
    at.checkbox(key="delete-user.ulf").check().run()
    next(b for b in at.button if b.label == "Delete user").click().run()
    assert "Deleted ulf." in everything(at)
    assert list(at.dataframe[0].value["Username"]) == ["mona"]
    at.checkbox(key="delete-user.mona").check().run()
    next(b for b in at.button if b.label == "Delete user").click().run()
    assert texts(at.error) == ["You cannot delete your own account (mona): ask another manager."]
