"""Guessing a password through the sign-in form is slowed, then locked for a while, across
sessions: a new browser session does not start the count again. The rules themselves
(window, lock length, unknown names treated alike) are ``tests/test_auth.py``'s; this drives
the real form of ``app.py``.
"""

from __future__ import annotations

from functools import partial

import pytest

from core.access import auth
from core.access.auth import DEFAULT_POLICY
from tests.pages.conftest import PASSWORD, texts
from views import sign_in as sign_in_view

pytestmark = pytest.mark.every_backend  # the app on SQLite and on PostgreSQL


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the form would have waited (recorded, not waited)."""
    delays: list[float] = []
    monkeypatch.setattr(sign_in_view, "sign_in", partial(auth.sign_in, sleep=delays.append))
    return delays


def _try(at, password):
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input("mona")
    fields["Password"].input(password)
    at.button[0].click().run()
    return texts(at.error)


def test_guessing_is_slowed_then_locked_even_for_the_right_password(open_app, slept):
    at = open_app()
    for _ in range(DEFAULT_POLICY.max_failures - 1):
        assert _try(at, "a-wrong-guess-1") == [
            "Unknown username or wrong password. Check both and try again."
        ]
    assert slept == [0.5, 1.0, 2.0, 4.0]
    (locked,) = _try(at, "a-wrong-guess-1")
    assert "Too many failed sign-ins for 'mona'" in locked
    (still_locked,) = _try(at, PASSWORD)
    assert "Too many failed sign-ins for 'mona'" in still_locked
    assert texts(at.title) == ["GridBoard"]
    # Another browser session is locked out just the same.
    other = open_app()
    (elsewhere,) = _try(other, PASSWORD)
    assert "Too many failed sign-ins for 'mona'" in elsewhere
    assert not other.session_state["authentication_status"]
