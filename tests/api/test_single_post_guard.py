"""api/single_post.py answers ``POST /measurements`` in front of FastAPI's routing, doing by
hand what the route's dependencies and the app's middleware do. A dependency or middleware
added later would be skipped by it without a word: this pins both, so that a change to either
fails here and names the module that must learn it too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from starlette.middleware import Middleware

import api.single_post
from api.app import create_app
from api.small_bodies import SmallBodyRoute
from core.db import Database
from tests.api.conftest import SETTINGS

# What the route asks before it runs: the caller (a manager's token, for ACTION), the database.
PINNED_DEPENDENCIES = [
    "api.deps.manager.<locals>.dependency(action='add measurements')",
    "api.deps.get_database",
    "fastapi.security.oauth2.OAuth2PasswordBearer",
    "api.deps.get_database",
]
PINNED_QUERY = ["overwrite"]  # any query string goes to the app (single_post leaves it)
PINNED_MIDDLEWARE = ["api.single_post.SinglePosts"]  # the short path itself, outermost
TELL = (
    "api/single_post.py answers POST /measurements without FastAPI's routing and would skip "
    "this silently: make it do the same (or hand such requests to the app), then pin it here"
)


def _name(call: Any) -> str:
    if not hasattr(call, "__code__"):  # a class, or an instance such as OAuth2PasswordBearer
        kind = call if isinstance(call, type) else type(call)
        return f"{kind.__module__}.{kind.__qualname__}"
    name = f"{call.__module__}.{call.__qualname__}"
    captured = {
        var: cell.cell_contents
        for var, cell in zip(call.__code__.co_freevars, call.__closure__ or (), strict=True)
    }
    if not captured:
        return name
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in sorted(captured.items()))})"


def _dependencies(dependant: Dependant) -> list[str]:
    found: list[str] = []
    for sub in dependant.dependencies:
        found.append(_name(sub.call))
        found.extend(_dependencies(sub))
    return found


def _routes(routes: list[Any]) -> list[Any]:
    """Every route as the app runs it: FastAPI 0.16x keeps an included router's routes, with
    the dependencies the include adds, behind ``effective_route_contexts``."""
    found: list[Any] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        found.extend(contexts() if contexts else [route])
    return found


def _route(app: FastAPI) -> Any:
    (route,) = [
        route
        for route in _routes(app.routes)
        if route.path == "/measurements" and "POST" in (route.methods or ())
    ]
    return route


def drift(app: FastAPI) -> list[str]:
    """What differs from what api/single_post.py does by hand, each naming that module."""
    route = _route(app)
    found: list[str] = []
    dependencies = _dependencies(route.dependant)
    if dependencies != PINNED_DEPENDENCIES:
        found.append(f"the route's dependencies are now {dependencies}: {TELL}")
    query = [param.name for param in route.dependant.query_params]
    if query != PINNED_QUERY:
        found.append(f"the route's query parameters are now {query}: {TELL}")
    original = getattr(route, "original_route", route)
    if not isinstance(original, SmallBodyRoute):  # its body cap is SMALL_BODY_BYTES here
        found.append(f"the route's class is now {type(original).__name__}: {TELL}")
    middleware = [_name(entry.cls) for entry in app.user_middleware]
    if middleware != PINNED_MIDDLEWARE:
        found.append(f"the app's middleware is now {middleware}: {TELL}")
    return found


def _app(tmp_path: Path) -> FastAPI:
    database = Database.from_url(f"sqlite:///{tmp_path / 'guard.db'}")
    return create_app(database, settings=SETTINGS, run_reports=False)


def test_the_short_path_does_all_the_route_and_the_app_would(tmp_path: Path):
    assert drift(_app(tmp_path)) == []


def test_a_dependency_or_middleware_added_later_fails_naming_single_post(tmp_path: Path):
    async def audited() -> None:
        return None

    app = _app(tmp_path)
    app.user_middleware.insert(0, Middleware(type("Audit", (), {"__module__": "x"})))
    _route(app).dependant.dependencies.append(Dependant(call=audited, name="audited"))
    problems = drift(app)
    assert len(problems) == 2
    assert all("api/single_post.py" in problem for problem in problems)
    assert "audited" in problems[0] and "Audit" in problems[1]
    assert api.single_post.ACTION == "add measurements"  # the action pinned above
