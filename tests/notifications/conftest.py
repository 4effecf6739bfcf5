"""Fixtures of the webhook tests: loopback receivers allowed, a receiver served per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.config import get_settings
from tests.notifications.receiver import Receiver, serving


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GRIDBOARD_WEBHOOK_ALLOW_PRIVATE=true: the receivers listen on 127.0.0.1."""
    monkeypatch.setenv("GRIDBOARD_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def receiver(allow_private: None) -> Iterator[Receiver]:
    with serving(Receiver(port=0)) as served:
        yield served
