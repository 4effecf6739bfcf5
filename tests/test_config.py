from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import ConfigurationError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_documents_every_setting():
    documented = set(re.findall(r"`(GRIDBOARD_[A-Z_]+)`", README.read_text(encoding="utf-8")))
    settings = {f"GRIDBOARD_{name.upper()}" for name in Settings.model_fields}
    assert settings <= documented, f"undocumented: {sorted(settings - documented)}"


@pytest.mark.parametrize("key", ["", "changeme", "secret", "short"])
def test_placeholder_cookie_key_is_refused(key):
    with pytest.raises(ConfigurationError, match="GRIDBOARD_COOKIE_KEY"):
        Settings(cookie_key=key, demo=False).require_cookie_key()


def test_real_cookie_key_is_accepted():
    key = "n0t-a-placeholder-but-a-real-key"
    assert Settings(cookie_key=key).require_cookie_key() == key


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="sqlite"):
        Settings(database_url="mysql://x")
