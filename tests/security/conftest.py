"""The AppTest fixtures of ``tests/pages`` (the real ``app.py`` on a fresh SQLite database, or
on PostgreSQL too for tests marked ``every_backend``)."""

from tests.pages.conftest import app_backend, app_db, open_app

__all__ = ["app_backend", "app_db", "open_app"]
