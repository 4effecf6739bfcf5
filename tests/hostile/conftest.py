"""The API's fixtures (a manager and a user, a world of one of each thing, a client) for the
hostile requests sent to it here, and the pages' (the app over a fresh database) for the
hostile names drawn; they live with the API's and the pages' own tests."""

from __future__ import annotations

from tests.api.conftest import client, manager_headers, people, user_headers, world
from tests.pages.conftest import app_backend, app_db, open_app

__all__ = [
    "app_backend",
    "app_db",
    "client",
    "manager_headers",
    "open_app",
    "people",
    "user_headers",
    "world",
]
