"""Sign-in with streamlit-authenticator over GridBoard's users; ``core.access.auth`` decides.
See docs/architecture.md#sign-in."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from extra_streamlit_components import CookieManager
from streamlit_authenticator.models import cookie_model
from streamlit_authenticator.utilities import LoginError

from core.access.auth import (
    cookie_issued_at,
    cookie_key,
    cookie_sign_in,
    end_session,
    list_credentials,
    read_sign_in_cookie,
    session_user,
    sign_in,
    start_session,
)
from core.config import get_settings
from core.domain import Actor
from core.errors import GridBoardError, InvalidInput
from views import messages, resources, wording

COOKIE_NAME = "gridboard_session"
COOKIE_EXPIRY_DAYS = 7.0
STATUS = "authentication_status"
# The id of this browser session's sign-in (``core.access.auth.start_session``), also in its cookie:
# signing out ends it on the server, so a copy of the cookie is refused afterwards.
SESSION_ID = "gridboard.sign_in_session"
# A cookie change the browser has not confirmed yet: the key of extra-streamlit-components'
# cookie component doing it ("set" or "delete"), whose value turns True once it has run.
PENDING = "gridboard.cookie_pending"


def _configured_secret() -> str:
    try:
        return str(st.secrets.get("cookie_key", "") or st.secrets.get("GRIDBOARD_COOKIE_KEY", ""))
    except FileNotFoundError:  # no secrets.toml
        return ""


# the package's ``CookieManager`` names the class; its module holds the component
_COOKIE_COMPONENT = importlib.import_module(CookieManager.__module__)._component_func


class _CookieWriter(CookieManager):
    """extra-streamlit-components' cookie manager without the component it draws on every run
    to read the browser's cookies ("getAll"). GridBoard reads the cookie from
    ``st.context.cookies`` (``_read_cookie``); that component only cost each page load an
    iframe and a second run of the whole page, which started once the iframe had loaded and
    interrupted the first run half-way. Setting and deleting the cookie still go through the
    library's component, drawn only then."""

    def __init__(self, key: str = "init") -> None:
        self.cookie_manager = _COOKIE_COMPONENT
        self.cookies = dict(st.context.cookies)

    def delete(self, cookie: str, key: str = "delete") -> None:
        self.cookie_manager(method="delete", cookie=cookie, key=key, default=False)
        self.cookies.pop(cookie, None)


class _Components:
    CookieManager = _CookieWriter


cookie_model.stx = _Components  # what the library's CookieModel builds its manager from


@st.cache_resource(show_spinner=False)
def _cookie_key() -> str:
    return cookie_key(get_settings(), configured=_configured_secret())


class _HeldCookie:
    """Stands in for the library's cookie controller while the form is drawn, so the
    cookie is written after the form's placeholder is emptied (it would go with it)."""

    def __init__(self, controller: Any) -> None:
        self.controller = controller
        self.wanted = False

    def get_cookie(self) -> Any:
        return self.controller.get_cookie()

    def delete_cookie(self) -> None:
        self.controller.delete_cookie()

    def set_cookie(self) -> None:
        self.wanted = True


def _check_credentials(username: str, password: str) -> bool:
    user = sign_in(resources.database(), username=username, password=password)  # raises if refused
    st.session_state[SESSION_ID] = start_session(
        resources.database(),
        username=user.username,
        lifetime=timedelta(days=COOKIE_EXPIRY_DAYS),
        access=user.access,
    )
    return True


def _cookie_token(cookie_model: Any) -> str:
    """The library's cookie, naming this sign-in besides the user and the expiry."""
    return jwt.encode(
        {
            "username": st.session_state["username"],
            "exp_date": cookie_model.exp_date,
            "sid": st.session_state[SESSION_ID],
        },
        _cookie_key(),
        algorithm="HS256",
    )


def _authenticator(*, form: bool = True) -> Any:
    """The library's authenticator; with every user's credentials only when the run starts
    signed out (``form``): only the form's submission and a cookie's sign-in read them, and
    both happen in such a run. A signed-in run's sign-out button and cookie writer need none,
    so a page switch no longer reads every user's password hash; the form drawn when someone
    signs out is submitted in a run that starts signed out."""
    credentials = []
    if form:
        with resources.database().read() as session:
            credentials = list_credentials(session=session)
    users = {
        c.username: {
            "name": c.display_name,
            "email": c.email,
            "password": c.password_hash,
            "roles": [c.role.value],
        }
        for c in credentials
    }
    authenticator = stauth.Authenticate(
        {"usernames": users},
        cookie_name=COOKIE_NAME,
        cookie_key=_cookie_key(),
        cookie_expiry_days=COOKIE_EXPIRY_DAYS,
        auto_hash=False,
        login_sleep_time=0,  # cookies come from st.context; nothing to wait for
    )
    authenticator.authentication_controller.authentication_model.check_credentials = (
        _check_credentials
    )
    cookie_model = authenticator.cookie_controller.cookie_model
    cookie_model.get_cookie = _read_cookie
    cookie_model._token_encode = lambda: _cookie_token(cookie_model)
    return authenticator


def _read_cookie() -> dict[str, Any] | None:
    """The sign-in cookie's claim, checked by ``core.access.auth`` instead of the library, whose own
    check lets a token with another algorithm or a malformed payload raise on the page."""
    if st.session_state.get("logout"):
        return None
    token = st.context.cookies.get(COOKIE_NAME)
    if not token:
        return None
    claim = read_sign_in_cookie(token, key=_cookie_key())
    if claim is None:
        return None
    return {"username": claim.username, "exp_date": claim.expires_at, "sid": claim.session_id}


def _refuse_stale_cookie(authenticator: Any) -> None:
    """A cookie whose sign-in has ended (signed out, expired), for a deleted user or from
    before a password change is not honoured; a good one's sign-in becomes this session's."""
    if st.session_state.get(STATUS):
        return
    token = authenticator.cookie_controller.get_cookie()
    if not token:
        return
    issued = cookie_issued_at(float(token["exp_date"]), COOKIE_EXPIRY_DAYS)
    with resources.database().read() as session:
        user = cookie_sign_in(
            session=session,
            username=str(token["username"]),
            issued_at=issued,
            session_id=str(token["sid"]),
        )
    if user is not None:
        st.session_state[SESSION_ID] = str(token["sid"])
    else:
        st.session_state["logout"] = True  # the library then ignores the cookie
        authenticator.cookie_controller.delete_cookie()
        st.session_state[PENDING] = "delete"
        st.info("Your sign-in has expired. Please sign in again.")


def _current_actor() -> Actor | None:
    """The signed-in user and role as the database has them now, while the sign-in holds
    (``core.access.auth.session_user``); ``None`` for a session signed in without a recorded
    sign-in, which only a sign-in through the form or a cookie makes."""
    session_id = st.session_state.get(SESSION_ID)
    if not session_id:
        return None
    with resources.database().read() as session:
        user = session_user(
            session=session, username=st.session_state["username"], session_id=session_id
        )
    return None if user is None else user.actor


def _end_sign_in() -> None:
    session_id = st.session_state.pop(SESSION_ID, None)
    if session_id:
        end_session(resources.database(), session_id=session_id)


def _require_username(authenticator: Any) -> None:
    """The library ignores a submitted form without a username; say what is missing instead."""
    controller = authenticator.authentication_controller
    if getattr(controller, "_gridboard_checked", False):
        return
    login = controller.login

    def checked(username: str | None = None, password: str | None = None, *a: Any, **k: Any) -> Any:
        if username is not None and not username.strip():
            raise InvalidInput.single("username", "enter your username to sign in")
        return login(username, password, *a, **k)

    controller.login = checked
    controller._gridboard_checked = True


def _login_form(authenticator: Any) -> None:
    placeholder = st.empty()
    held = _HeldCookie(authenticator.cookie_controller)
    authenticator.cookie_controller = held
    with placeholder.container():
        st.title("GridBoard")
        st.caption("The inventory, measurements and reports of the distribution grid.")
        _require_username(authenticator)
        try:
            authenticator.login(
                fields={
                    "Form name": "Sign in",
                    "Username": "Username",
                    "Password": "Password",
                    "Login": "Sign in",
                },
                key="sign-in",
            )
        except GridBoardError as error:
            messages.show_error(error)
        except LoginError:  # a cookie for a user the library does not know
            st.session_state["logout"] = True
            st.info("Your sign-in has expired. Please sign in again.")
        st.caption("No account yet? Ask a manager to create one for you.")
    authenticator.cookie_controller = held.controller
    if st.session_state.get(STATUS):
        placeholder.empty()
        if held.wanted:
            held.controller.set_cookie()
            st.session_state[PENDING] = "set"


def _finish_cookie_change(authenticator: Any) -> None:
    """Draw the cookie component again on every run until the browser has run it: a click
    right after signing in or out would otherwise remove it before it reached the browser."""
    pending = st.session_state.get(PENDING)
    if pending is None:
        return
    if st.session_state.get(pending) is True:
        del st.session_state[PENDING]
    elif pending == "set" and st.session_state.get(STATUS):
        authenticator.cookie_controller.set_cookie()
    elif pending == "delete":
        authenticator.cookie_controller.delete_cookie()
    else:
        del st.session_state[PENDING]


def cookie_written() -> bool:
    """Whether the browser has stored the sign-in cookie; until then a ``st.rerun()`` or
    ``st.switch_page()`` would remove the component that writes it."""
    return st.session_state.get(PENDING) is None


def _sidebar(authenticator: Any, actor: Actor) -> None:
    with st.sidebar:
        name = st.session_state.get("name") or actor.username
        st.markdown(
            f"Signed in as **{wording.literal(name)}**  \n`{actor.username}` · {actor.role.value}"
        )
        authenticator.logout(button_name="Sign out", location="sidebar", key="sign-out")
    if not st.session_state.get(STATUS):
        _end_sign_in()
        st.session_state[PENDING] = "delete"


def signed_in_actor() -> Actor | None:
    """The signed-in user (shown in the sidebar with a sign-out button), or ``None`` after
    drawing the sign-in form."""
    authenticator = _authenticator(form=not st.session_state.get(STATUS))
    _finish_cookie_change(authenticator)
    _refuse_stale_cookie(authenticator)
    if st.session_state.get(STATUS):
        actor = _current_actor()
        if actor is None:
            authenticator.logout(location="unrendered")
            _end_sign_in()
            st.session_state[PENDING] = "delete"
            st.info(
                "Your sign-in has ended. Your password or role was changed, your account "
                "was deactivated or removed, or you signed out in another window. Please sign "
                "in again."
            )
        else:
            _sidebar(authenticator, actor)
            if st.session_state.get(STATUS):
                return actor
    _login_form(authenticator)
    if not st.session_state.get(STATUS):
        return None
    actor = _current_actor()  # signed in just now
    if actor is not None:
        _sidebar(authenticator, actor)
    return actor
