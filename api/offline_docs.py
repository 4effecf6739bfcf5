"""The API's documentation pages (Swagger UI at ``/docs``, ReDoc at ``/redoc``) drawn from
assets the app serves itself, so they work in a control room without internet.
See docs/reference.md#the-http-api."""

from __future__ import annotations

import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

# The Swagger UI and ReDoc bundles FastAPI would load from a CDN, packaged by fastapi-offline
# (pinned in constraints.txt like every dependency).
ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs-assets"
# Swagger UI asks validator.swagger.io to badge a schema served from any host but localhost.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
# ReDoc's bundle draws its "powered by" logo from its makers' CDN: served with that address
# replaced by an image of the app's own.
REDOC_LOGO = re.compile(r"https://[^\"']+/logo-mini\.svg")


def install_offline_docs(app: FastAPI, *, title: str | None = None) -> FastAPI:
    """Serve ``app``'s ``/docs`` and ``/redoc`` from its own ``/docs-assets``; paths are
    relative to the app's root path, so an app mounted under a prefix (``/b``) works the same.
    Create the app with ``docs_url=None, redoc_url=None`` so FastAPI's CDN pages are not
    registered first."""
    if app.docs_url or app.redoc_url:
        raise ValueError("create the app with docs_url=None and redoc_url=None")
    shown = title or app.title
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    redoc_bundle = (ASSETS / "redoc.standalone.js").read_text(encoding="utf-8")
    if not REDOC_LOGO.search(redoc_bundle):
        raise ValueError("ReDoc's bundle no longer names its logo's address: check what it fetches")

    async def redoc_js(request: Request) -> Response:
        logo = f"{request.scope.get('root_path', '')}{ASSETS_PATH}/favicon.png"
        patched = REDOC_LOGO.sub(logo, redoc_bundle)
        return Response(patched, media_type="text/javascript")

    app.add_route(f"{ASSETS_PATH}/redoc.offline.js", redoc_js, include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{shown} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )

    async def oauth2_redirect(_request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{shown} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.offline.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route(redirect_url, oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    return app
