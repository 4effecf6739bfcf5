"""The API's fixtures (a manager and a user, a world of one of each thing, a client) for the
hostile requests sent to it here; they live with the API's own tests."""

from __future__ import annotations

from tests.api.conftest import client, manager_headers, people, user_headers, world

__all__ = ["client", "manager_headers", "people", "user_headers", "world"]
