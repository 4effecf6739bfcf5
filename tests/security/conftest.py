"""The AppTest fixtures of ``tests/pages`` (the real ``app.py`` on a fresh SQLite database)."""

from tests.pages.conftest import app_db, open_app

__all__ = ["app_db", "open_app"]
