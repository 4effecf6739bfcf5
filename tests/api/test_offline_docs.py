"""The documentation pages any GridBoard FastAPI app installs load nothing from another host,
at the root and under a prefix such as ``/b``."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.offline_docs import install_offline_docs
from core.db import open_database
from tests.api.conftest import SETTINGS

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""")


def _assets(html: str) -> list[str]:
    return [first or second for first, second in ASSET.findall(html)]


def test_docs_and_redoc_name_only_the_apps_own_assets_also_under_a_prefix():
    inner = install_offline_docs(FastAPI(title="Inner", docs_url=None, redoc_url=None))
    outer = install_offline_docs(FastAPI(title="Outer", docs_url=None, redoc_url=None))
    outer.mount("/b", inner)
    client = TestClient(outer)
    for prefix in ("", "/b"):
        for page in ("/docs", "/redoc"):
            answer = client.get(f"{prefix}{page}")
            assert answer.status_code == 200
            assets = _assets(answer.text)
            assert assets and all(asset.startswith(f"{prefix}/") for asset in assets), assets
            for asset in assets:
                assert client.get(asset).status_code == 200, asset
        assert "fonts.googleapis" not in client.get(f"{prefix}/redoc").text


def test_the_api_serves_its_docs_itself():
    app = create_app(open_database("sqlite://"), settings=SETTINGS, run_reports=False)
    html = TestClient(app).get("/docs").text
    assert "cdn." not in html and "/docs-assets/swagger-ui-bundle.js" in html
