"""The Users page's Webhooks task: a manager adds one (the secret never shown back), sees a bad
URL explained, deactivates and deletes one, and reads the recent attempts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.config import get_settings
from core.notifications.delivery import Outcome, claim_due, record
from core.webhook_models import Webhook
from tests.factories import make_component
from tests.notifications.receiver import SECRET
from tests.pages.conftest import everything, texts

PAGE = "pages/users.py"


@pytest.fixture
def loopback_allowed(monkeypatch):
    monkeypatch.setenv("GRIDBOARD_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()


def _task(at):
    at.button_group[0].set_value("Webhooks").run()
    return at


def _add(at, url, secret=SECRET):
    fields = {field.label: field for field in at.text_input}
    fields["Receiver URL"].input(url)
    fields["Secret"].input(secret)
    at.button(key="FormSubmitter:add-webhook-Add webhook").click().run()
    return at


def test_a_manager_adds_a_webhook_and_sees_it_listed_without_its_secret(
    open_app, app_db, loopback_allowed
):
    at = _add(_task(open_app(as_user="mona", page=PAGE)), "http://127.0.0.1:9/hook")
    shown = everything(at).replace("\u2060", "")  # the word joiner that keeps it no link
    assert "Webhook 1 added: alarm events go to http://127.0.0.1:9/hook." in shown
    listed = at.dataframe[1].value
    assert list(listed["URL"]) == ["http://127.0.0.1:9/hook"]
    assert list(listed["State"]) == ["active"] and list(listed["Added by"]) == ["mona"]
    assert SECRET not in everything(at)
    with app_db.read() as session:
        assert list(session.scalars(select(Webhook.secret))) == [SECRET]


def test_a_bad_url_and_a_short_secret_are_explained_and_nothing_is_added(open_app, app_db):
    at = _add(_task(open_app(as_user="mona", page=PAGE)), "http://10.0.0.5/hook", secret="short")
    shown = " ".join(texts(at.error))
    assert "non-public address (10.0.0.5)" in shown
    assert "GRIDBOARD_WEBHOOK_ALLOW_PRIVATE=true" in shown
    assert "at least 16 characters, got 5" in shown
    assert len(at.dataframe[1].value) == 0


def test_a_manager_deactivates_then_deletes_and_sees_the_attempts(
    open_app, app_db, loopback_allowed
):
    from tests.alarms.support import post

    at = _add(_task(open_app(as_user="mona", page=PAGE)), "http://127.0.0.1:9/hook")
    post(app_db, make_component(app_db).id, "voltage", [125.0])
    (claimed, *_) = claim_due(app_db, worker="w", lease_seconds=30)
    record(app_db, claimed, Outcome(500, "answered 500", 3.0), worker="w")
    at = _task(at.run())
    attempts = at.dataframe[2].value
    assert list(attempts["Answer"]) == ["500"] and list(attempts["Delivery"]) == ["pending"]
    assert list(attempts["Event"]) == ["raise"]
    assert list(at.dataframe[1].value["Pending"]) == [2]
    change = next(r for r in at.radio if r.label == "Change")
    change.set_value("Deactivate")
    at.button(key="FormSubmitter:change-webhook-Change webhook").click().run()
    assert "Webhook 1 is deactivated" in everything(at)
    assert list(_task(at).dataframe[1].value["State"]) == ["deactivated"]
    change = next(r for r in at.radio if r.label == "Change")
    change.set_value("Delete")
    at.button(key="FormSubmitter:change-webhook-Change webhook").click().run()
    assert texts(at.error) == ["Tick the box to delete the webhook: its history goes with it."]
    next(c for c in at.checkbox if c.label.startswith("Yes, delete it")).check()
    change = next(r for r in at.radio if r.label == "Change")
    change.set_value("Delete")
    at.button(key="FormSubmitter:change-webhook-Change webhook").click().run()
    assert "Webhook 1 is deleted with its deliveries." in everything(at)
    assert len(_task(at).dataframe[1].value) == 0
