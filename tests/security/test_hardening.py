"""Configuration that keeps secrets out of the repository and the image, and Streamlit's own
protections on: an error shows no traceback, cross-site requests are refused (XSRF, CORS)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHERS = ("Dockerfile", "compose.yaml", "Makefile")


def test_streamlit_hides_errors_and_keeps_xsrf_and_cors_protection():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"  # no traceback or path in the page
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["server"].get("enableCORS", True) is True
    for name in LAUNCHERS:
        text = (ROOT / name).read_text(encoding="utf-8")
        overrides = re.findall(r"(?i)(xsrf|enablecors|showerrordetails)", text)
        assert not overrides, f"{name} overrides Streamlit's protections: {overrides}"


def test_secret_files_are_never_committed():
    ignored = {
        line.strip()
        for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    # The compose .env (database password, cookie key), Streamlit's secrets, and data/ with
    # the demo cookie key and the SQLite database.
    assert {".env", "/secrets/", ".streamlit/secrets.toml", "data/"} <= ignored


def test_the_image_copies_only_code_and_settings_without_secrets():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = [
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY") and "--from=" not in line
        for source in line.split()[1:-1]
        if not source.startswith("--")
    ]
    assert sources, "no COPY found: the check would prove nothing"
    for source in sources:
        assert source not in (".", "./", "data", ".env"), f"the image would copy {source}"
        assert "secrets" not in source and "cookie_key" not in source, source
