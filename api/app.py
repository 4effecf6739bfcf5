"""The API application: ``create_app()`` opens the configured database (migrating it) and runs
queued reports unless ``GRIDBOARD_APP_RUNS_REPORTS`` is false.
See docs/reference.md#the-http-api."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors, reference
from api.offline_docs import install_offline_docs
from api.routers import (
    alarms,
    auth,
    components,
    imports,
    limits,
    measurements,
    reports,
    substations,
)
from api.single_post import SinglePosts
from core.access.auth import cookie_key
from core.access.sign_in_tokens import signing_key
from core.config import Settings, get_settings
from core.db import Database, open_database
from core.logs import configure_logging
from core.reports.jobs import ReportRunner

log = logging.getLogger(__name__)

# What a browser page on an allowed origin (GRIDBOARD_CORS_ORIGINS) may send and read. No
# credentials: the API reads a bearer token, never a cookie.
CORS_METHODS = ("GET", "POST", "PUT", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "Accept")
CORS_EXPOSED = ("Location", "Retry-After", "X-Raw-Count", "X-Downsampled", "Content-Disposition")

DESCRIPTION = """\
GridBoard's grid model, measurements and reports over HTTP, for SCADA feeds, scripts and tools.
The same users, roles, rules and error messages as the dashboard.

Sign in with `POST /auth/token` (form fields `username`, `password`, optional `scope`) and send
`Authorization: Bearer TOKEN`; machines use an API token a manager made (`gridboard
create-token`). A `user` (or a `read` token) reads; a `manager` (or a `write` token) also writes.
Every refusal is `{"detail": sentence, "problems": [...]}`: each problem names its `field` (or
its `line` and `column` in an import) and a `reason`.

Under `/b`, the reference service's contract for clients written against it: its paths,
upper-case enumerations, scopes, 409 while a report is not ready and error bodies.
"""


def create_app(
    database: Database | None = None,
    *,
    settings: Settings | None = None,
    run_reports: bool | None = None,
) -> FastAPI:
    """The API over ``database`` (default: the configured one, migrated now)."""
    settings = settings or get_settings()
    owned = database is None
    database = database or open_database()
    runs_reports = settings.app_runs_reports if run_reports is None else run_reports

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.sign_in_limiter = auth.sign_in_limiter()
        for path in imports.remove_stale_folders():
            log.warning("removed %s, left by an API process that is gone", path)
        app.state.runner = ReportRunner(database).start() if runs_reports else None
        try:
            yield
        finally:
            if app.state.runner is not None:
                app.state.runner.stop(timeout=5)
            if owned:
                database.dispose()

    app = FastAPI(
        title="GridBoard API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # drawn from the app's own assets below, never a CDN
        redoc_url=None,
    )
    install_offline_docs(app)
    app.state.database = database
    app.state.settings = settings
    app.state.signing_key = signing_key(cookie_key(settings))
    app.state.runner = None
    errors.install(app)
    for module in (auth, components, measurements, imports, reports, substations, alarms, limits):
        app.include_router(module.router)
    app.include_router(reference.router)
    app.add_middleware(SinglePosts, api=app)
    if settings.cors_origin_list:  # outermost, so the single posts' answers carry it too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origin_list),
            allow_methods=list(CORS_METHODS),
            allow_headers=list(CORS_HEADERS),
            expose_headers=list(CORS_EXPOSED),
            max_age=600,
        )
    return app


def serve_app() -> FastAPI:
    """What ``gridboard api`` serves in each of its worker processes."""
    settings = get_settings()
    configure_logging(settings)
    return create_app(settings=settings)
