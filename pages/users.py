"""Users (manager): who may sign in; create users, change roles, reset passwords, deactivate
or delete users, the API tokens machines use, and the webhooks. See docs/design.md#roles."""

import streamlit as st

from core.access.passwords import password_rules
from core.access.users import (
    create_user,
    delete_user,
    list_users,
    set_active,
    set_password,
    set_role,
    username_rules,
)
from core.domain import Role
from views import api_tokens, messages, resources, ui, webhooks, wording
from views.user_table import users_frame

actor = ui.require_manager("manage users")
st.title("Users")
zone = ui.browser_zone()
with resources.database().read() as session:
    users = list_users(session=session)
st.dataframe(users_frame(users, zone), hide_index=True)
st.caption("A user reads everything; a manager also changes components, measurements and users.")

TASKS = [
    "Create a user",
    "Change a role",
    "Reset a password",
    "Deactivate or reactivate",
    "Delete a user",
    "API tokens",
    "Webhooks",
]
task = st.segmented_control("What would you like to do?", TASKS, default=TASKS[0], required=True)
names = [u.username for u in users]
roles = list(Role)
differ = "The two passwords differ. Type the same password twice."
rules = password_rules()

if task == "Create a user":
    with st.form("create-user", clear_on_submit=False):
        username = st.text_input("Username", help=f"{username_rules()}.")
        display_name = st.text_input("Full name (optional)")
        email = st.text_input("Email (optional)")
        role = st.radio("Role", roles, format_func=str.capitalize, horizontal=True)
        password = st.text_input("Password", type="password", help=rules)
        repeated = st.text_input("Password again", type="password")
        created = st.form_submit_button("Create user", type="primary")
    if created and password != repeated:
        st.error(differ)
    elif created:
        with messages.problems_shown():
            with resources.database().write() as session:
                user = create_user(
                    session=session,
                    actor=actor,
                    username=username,
                    password=password,
                    role=role,
                    display_name=display_name,
                    email=email,
                )
            messages.flash(
                f"Created {user.role.value} {wording.literal(user.username)}. "
                "Tell them their password."
            )
            st.rerun()

elif task == "Change a role":
    with st.form("change-role"):
        username = st.selectbox("User", names)
        role = st.radio("New role", roles, format_func=str.capitalize, horizontal=True)
        changed = st.form_submit_button("Change role", type="primary")
    if changed and username:
        with messages.problems_shown():
            with resources.database().write() as session:
                user = set_role(session=session, actor=actor, username=username, role=role)
            messages.flash(f"{wording.literal(user.username)} is now a {user.role.value}.")
            st.rerun()

elif task == "Deactivate or reactivate":
    with st.form("set-active"):
        username = st.selectbox("User", names)
        active = st.radio(
            "Status",
            [False, True],
            format_func=lambda a: "Active: may sign in" if a else "Deactivated: may not sign in",
            horizontal=True,
        )
        changed = st.form_submit_button("Change status", type="primary")
    if changed and username:
        with messages.problems_shown():
            with resources.database().write() as session:
                user = set_active(session=session, actor=actor, username=username, active=active)
            messages.flash(
                f"{wording.literal(user.username)} is active again and may sign in."
                if user.active
                else f"{wording.literal(user.username)} is deactivated: they cannot sign in, and "
                "a browser where they are signed in is signed out."
            )
            st.rerun()

elif task == "Delete a user":
    username = st.selectbox("User", names, key="delete-user.name")
    st.caption(
        "What they did keeps their name: components and reports record who changed them. "
        "Deactivate instead if they may come back."
    )
    confirmed = st.checkbox(
        f"Yes, delete {wording.literal(username)} for good", key=f"delete-user.{username}"
    )
    if (
        st.button("Delete user", disabled=not confirmed, icon=":material/person_remove:")
        and username
    ):
        with messages.problems_shown():
            with resources.database().write() as session:
                delete_user(session=session, actor=actor, username=username)
            messages.flash(f"Deleted {wording.literal(username)}.")
            st.rerun()

elif task == "Reset a password":
    with st.form("reset-password", clear_on_submit=True):
        username = st.selectbox("User", names)
        password = st.text_input("New password", type="password", help=rules)
        repeated = st.text_input("New password again", type="password")
        reset = st.form_submit_button("Reset password", type="primary")
    if reset and password != repeated:
        st.error(differ)
    elif reset and username:
        with messages.problems_shown():
            with resources.database().write() as session:
                set_password(session=session, actor=actor, username=username, password=password)
            st.success(
                f"The password of {wording.literal(username)} is changed. Browsers signed in as "
                f"{wording.literal(username)} are "
                "signed out; tell them the new password."
            )

elif task == "API tokens":
    api_tokens.manage(actor)

else:
    webhooks.manage(actor)
