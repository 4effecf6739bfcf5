"""The order of refusals, the same on every route family (api/deps.py's ``reader`` and
``manager``): a token refused without the database (none, forged) first, 401; then the
request's own query or body, 422; then the caller as the database knows it: a token whose
user or grant has ended 401, a user on a manager's route 403. Nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select

from core.access.users import create_user
from core.db import Database
from core.domain import SYSTEM_ACTOR, Role
from core.models import Component, Measurement, Report, User
from tests.api.conftest import USER_PASSWORD, World, bearer, sign_in
from tests.factories import SWITCH

T_START, T_END = "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z"
Request = tuple[str, str, dict[str, Any]]


def _range(measurement_type: str) -> dict[str, Any]:
    return {"params": {"measurement_type": measurement_type, "start": T_START, "end": T_END}}


# Per family: a request refused for its own query or body, and the same request made good.
FAMILIES: dict[str, Callable[[World], tuple[Request, Request]]] = {
    "list components": lambda w: (
        ("GET", "/components", {"params": {"limit": 0}}),
        ("GET", "/components", {}),
    ),
    "create component": lambda w: (
        ("POST", "/components", {"json": {"name": 5}}),
        ("POST", "/components", {"json": SWITCH | {"name": "S2"}}),
    ),
    "read measurements": lambda w: (
        ("GET", f"/components/{w.component}/measurements", {"params": {"start": "yesterday"}}),
        ("GET", f"/components/{w.component}/measurements", {}),
    ),
    "add measurement": lambda w: (
        ("POST", "/measurements", {"json": {"component_id": "one", "value": "high"}}),
        (
            "POST",
            "/measurements",
            {
                "json": {
                    "component_id": w.component,
                    "measurement_type": "voltage",
                    "timestamp": T_START,
                    "value": 111.0,
                }
            },
        ),
    ),
    "delete measurements": lambda w: (
        ("DELETE", f"/components/{w.component}/measurements", _range("frequency")),
        ("DELETE", f"/components/{w.component}/measurements", _range("voltage")),
    ),
    "import measurements": lambda w: (
        ("POST", "/measurements/import", {"params": {"overwrite": "maybe"}}),
        (
            "POST",
            "/measurements/import",
            {
                "content": f"component_id,measurement_type,timestamp,value\n{w.component},"
                "power,2024-05-03,7\n",
                "headers": {"Content-Type": "text/csv"},
            },
        ),
    ),
    "list reports": lambda w: (
        ("GET", "/reports", {"params": {"limit": 0}}),
        ("GET", "/reports", {}),
    ),
    "request report": lambda w: (
        ("POST", "/reports", {"json": {"start_date": "someday", "end_date": "2024-05-02"}}),
        ("POST", "/reports", {"json": {"start_date": "2024-05-01", "end_date": "2024-05-02"}}),
    ),
    "list alarms": lambda w: (
        ("GET", "/alarms", {"params": {"state": "asleep"}}),
        ("GET", "/alarms", {}),
    ),
    "acknowledge alarm": lambda w: (
        ("POST", "/alarms/1/acknowledge", {"json": {"comment": 5}}),
        ("POST", "/alarms/1/acknowledge", {"json": {"comment": "seen"}}),
    ),
    "read component limits": lambda w: (
        ("GET", "/components/one/limits", {}),
        ("GET", f"/components/{w.component}/limits", {}),
    ),
    "set limits": lambda w: (
        ("PUT", "/limits", {"json": {"defaults": "two"}}),
        ("PUT", "/limits", {"json": {"defaults": {"deadband_pct": 2}}}),
    ),
    "change substation": lambda w: (
        ("PUT", "/substations/Riverside", {"json": {"x": 1}}),
        ("PUT", "/substations/Riverside", {"json": {"description": "by the river"}}),
    ),
    "reference list": lambda w: (
        ("GET", "/b/components", {"params": {"limit": 0}}),
        ("GET", "/b/components", {}),
    ),
    "reference create": lambda w: (
        ("POST", "/b/components", {"json": {"name": "S3"}}),
        (
            "POST",
            "/b/components",
            {
                "json": {
                    "name": "S3",
                    "substation": "Riverside",
                    "component_type": "SWITCH",
                    "status": "OPEN",
                }
            },
        ),
    ),
}
WRITES = {
    "create component", "add measurement", "delete measurements", "import measurements",
    "request report", "acknowledge alarm", "set limits", "change substation",
    "reference create",
}  # fmt: skip


def _counts(people: Database) -> tuple[int, ...]:
    with people.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Component, Measurement, Report)
        )


def _send(client: Any, request: Request, headers: dict[str, str]) -> Any:
    method, path, given = request
    options = dict(given)
    extra = options.pop("headers", {})
    return client.request(method, path, headers=headers | extra, **options)


def test_every_route_family_refuses_in_the_stated_order(client, people: Database, world: World):
    with people.write() as session:
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="max", password="second-desk-789",
            role=Role.MANAGER,
        )  # fmt: skip
    max_token = bearer(sign_in(client, "max", "second-desk-789", "manager"))
    with people.write() as session:
        session.execute(delete(User).where(User.username == "max"))
    ended = {"removed manager": max_token, "revoked write token": bearer(world.revoked_token)}
    user = bearer(sign_in(client, "ulf", USER_PASSWORD))
    forged = {"Authorization": "Bearer not.a.token"}
    before = _counts(people)
    for family, requests in FAMILIES.items():
        bad, good = requests(world)
        said = _send(client, bad, {})
        assert said.status_code == 401, (family, "no token", said.text)
        said = _send(client, bad, forged)
        assert said.status_code == 401, (family, "forged", said.text)
        for kind, headers in ended.items():
            said = _send(client, bad, headers)
            assert said.status_code == 422, (family, kind, said.text)
            said = _send(client, good, headers)
            assert said.status_code == 401, (family, kind, said.text)
        if family in WRITES:
            said = _send(client, bad, user)
            assert said.status_code == 422, (family, "user", said.text)
            said = _send(client, good, user)
            refused = 401 if family.startswith("reference") else 403  # /b answers as the reference
            assert said.status_code == refused, (family, "user", said.text)
    assert _counts(people) == before
