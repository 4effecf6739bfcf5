"""The API tokens part of the Users page: list, make (shown once), revoke.
See docs/reference.md#the-http-api."""

import polars as pl
import streamlit as st

from core.access.api_tokens import (
    MAX_EXPIRY_DAYS,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from core.config import get_settings
from core.domain import Actor
from core.models import utc_now
from views import messages, resources, wording

NEW_TOKEN_KEY = "users.new_token"  # noqa: S105 (a session-state key)


def manage(actor: Actor) -> None:
    st.caption(
        "Tokens let machines (a SCADA export, a script) call the HTTP API: read acts as a user, "
        "write also adds and imports, as a manager. A token is shown once, when it is made."
    )
    shown = st.session_state.pop(NEW_TOKEN_KEY, None)
    if shown is not None:
        st.success(
            f"Token {wording.literal(shown[0])} is made. Copy it now: it is not shown again."
        )
        st.code(shown[1], language=None)
    now = utc_now()
    with resources.database().read() as session:
        tokens = list_api_tokens(session=session)
    st.dataframe(
        pl.DataFrame(
            {
                "ID": [t.id for t in tokens],
                "Name": [t.name for t in tokens],
                "Scope": [t.scope.value for t in tokens],
                "State": [t.state(now) for t in tokens],
                "Made by": [t.created_by for t in tokens],
                "Made": [wording.when(t.created_at) for t in tokens],
                "Expires": [wording.when(t.expires_at) or "never" for t in tokens],
                "Last used": [wording.when(t.last_used_at) or "never" for t in tokens],
            },
            schema={
                "ID": pl.Int64,
                "Name": pl.String,
                "Scope": pl.String,
                "State": pl.String,
                "Made by": pl.String,
                "Made": pl.String,
                "Expires": pl.String,
                "Last used": pl.String,
            },
        ),
        hide_index=True,
    )
    with st.form("create-token", clear_on_submit=True):
        name = st.text_input("Token name", help="What uses it, such as scada-export.")
        scope = st.radio("Scope", ["read", "write"], horizontal=True)
        days = st.number_input(
            "Expires after (days)",
            min_value=1,
            max_value=MAX_EXPIRY_DAYS,
            value=get_settings().api_token_days,
            step=1,
            help="Make a new token before this one expires.",
        )
        made = st.form_submit_button("Create token", type="primary")
    if made:
        with messages.problems_shown():
            with resources.database().write() as session:
                new = create_api_token(
                    session=session,
                    actor=actor,
                    name=name,
                    scope=scope,
                    expires_days=int(days),
                )
            # Shown by the next run, above the refreshed list, and then never again.
            st.session_state[NEW_TOKEN_KEY] = (new.record.name, new.secret)
            st.rerun()
    active = [t for t in tokens if t.state(now) == "active"]
    if active:
        with st.form("revoke-token"):
            chosen = st.selectbox(
                "Token to revoke",
                active,
                format_func=lambda t: f"{t.id}: {t.name} ({t.scope.value})",
            )
            revoked = st.form_submit_button("Revoke token")
        if revoked and chosen is not None:
            with messages.problems_shown():
                with resources.database().write() as session:
                    revoke_api_token(session=session, actor=actor, token_id=chosen.id)
                messages.flash(
                    f"Token {wording.literal(chosen.name)} is revoked: it no longer signs in."
                )
                st.rerun()
