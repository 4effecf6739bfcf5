"""The webhooks part of the Users page: add (URL and secret), list with their deliveries,
deactivate, reactivate or delete, and the recent attempts. See docs/reference.md#webhooks."""

import polars as pl
import streamlit as st

from core.domain import Actor
from core.notifications.webhooks import (
    WebhookRecord,
    add_webhook,
    delete_webhook,
    list_attempts,
    list_webhooks,
    set_webhook_active,
)
from views import messages, resources, wording

RECENT_ATTEMPTS = 50
CHANGES = {
    "Deactivate": "is deactivated: no new events are queued for it, pending ones wait",
    "Reactivate": "is active again",
    "Delete": "is deleted with its deliveries",
}


def manage(actor: Actor) -> None:
    st.caption(
        "Each alarm raise, acknowledgement, clear and shelving is sent to every active webhook "
        "as a signed JSON POST by the gridboard worker, retried until the receiver answers "
        "2xx. The secret signs each request; it is never shown again."
    )
    with resources.database().read() as session:
        hooks = list_webhooks(session=session, actor=actor)
        attempts = list_attempts(session=session, actor=actor, limit=RECENT_ATTEMPTS)
    st.dataframe(
        pl.DataFrame(
            {
                "ID": [h.id for h in hooks],
                "URL": [h.url for h in hooks],
                "State": ["active" if h.active else "deactivated" for h in hooks],
                "Pending": [h.pending for h in hooks],
                "Delivered": [h.delivered for h in hooks],
                "Failed": [h.failed for h in hooks],
                "Added by": [h.created_by for h in hooks],
                "Added": [wording.when(h.created_at) for h in hooks],
            },
            schema={
                "ID": pl.Int64,
                "URL": pl.String,
                "State": pl.String,
                "Pending": pl.Int64,
                "Delivered": pl.Int64,
                "Failed": pl.Int64,
                "Added by": pl.String,
                "Added": pl.String,
            },
        ),
        hide_index=True,
    )
    with st.form("add-webhook", clear_on_submit=True):
        url = st.text_input("Receiver URL", help="http:// or https://, without user:password@.")
        secret = st.text_input(
            "Secret",
            type="password",
            help="At least 16 characters; the receiver checks each request's signature with it.",
        )
        added = st.form_submit_button("Add webhook", type="primary")
    if added:
        with messages.problems_shown():
            with resources.database().write() as session:
                hook = add_webhook(session=session, actor=actor, url=url, secret=secret)
            messages.flash(f"Webhook {hook.id} added: alarm events go to {wording.literal(url)}.")
            st.rerun()
    if hooks:
        _change(actor, hooks)
    st.subheader("Recent attempts")
    st.dataframe(
        pl.DataFrame(
            {
                "Webhook": [a.webhook_id for a in attempts],
                "Alarm": [a.alarm_id for a in attempts],
                "Event": [a.event for a in attempts],
                "Try": [a.number for a in attempts],
                "At": [wording.when(a.started_at) for a in attempts],
                "Answer": [
                    str(a.status_code) if a.status_code is not None else (a.error or "sending")
                    for a in attempts
                ],
                "Delivery": [a.delivery_status for a in attempts],
            },
            schema={
                "Webhook": pl.Int64,
                "Alarm": pl.Int64,
                "Event": pl.String,
                "Try": pl.Int64,
                "At": pl.String,
                "Answer": pl.String,
                "Delivery": pl.String,
            },
        ),
        hide_index=True,
    )


def _change(actor: Actor, hooks: list[WebhookRecord]) -> None:
    """Deactivate or reactivate one webhook, or delete it with its deliveries."""
    with st.form("change-webhook"):
        chosen = st.selectbox(
            "Webhook",
            hooks,
            format_func=lambda h: f"{h.id}: {h.url} ({'active' if h.active else 'deactivated'})",
        )
        action = st.radio("Change", list(CHANGES), horizontal=True)
        confirmed = st.checkbox("Yes, delete it with its deliveries and their attempts")
        changed = st.form_submit_button("Change webhook")
    if not changed or chosen is None:
        return
    if action == "Delete" and not confirmed:
        st.error("Tick the box to delete the webhook: its history goes with it.")
        return
    with messages.problems_shown():
        with resources.database().write() as session:
            if action == "Delete":
                delete_webhook(session=session, actor=actor, webhook_id=chosen.id)
            else:
                active = action == "Reactivate"
                set_webhook_active(
                    session=session, actor=actor, webhook_id=chosen.id, active=active
                )
        messages.flash(f"Webhook {chosen.id} {CHANGES[action]}.")
        st.rerun()
