"""The permission matrix: every endpoint against every kind of caller, on SQLite and
PostgreSQL. Tokens that are missing, expired, tampered with, signed with another key or
revoked get 401; a user and a read token read and get 403 for every write; a manager and a
write token may do everything."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from core.access.sign_in_tokens import issue_sign_in_token, signing_key
from core.access.users import get_user
from core.db import Database
from core.domain import Role
from core.models import Component, Measurement, Report, utc_now
from tests.api.conftest import COOKIE_KEY, MANAGER_PASSWORD, USER_PASSWORD, bearer, sign_in
from tests.factories import SWITCH, TRANSFORMER

T_START, T_END = "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z"
MEASUREMENTS_CSV = "component_id,measurement_type,timestamp,value\n{cid},power,2024-05-03,7\n"
COMPONENTS_CSV = (
    "name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
    "S9,Hilltop,switch,,,,open\n"
)


Request = tuple[str, str, dict[str, Any]]
READS: dict[str, Callable[[dict[str, Any]], Request]] = {
    "me": lambda w: ("GET", "/auth/users/me", {}),
    "list components": lambda w: ("GET", "/components", {}),
    "read component": lambda w: ("GET", f"/components/{w['cid']}", {}),
    "read measurements": lambda w: ("GET", f"/components/{w['cid']}/measurements", {}),
    "list reports": lambda w: ("GET", "/reports", {}),
    "read report": lambda w: ("GET", f"/reports/{w['done']}", {}),
    "report table": lambda w: ("GET", f"/reports/{w['done']}/tables/components_by_type.csv", {}),
    "report zip": lambda w: ("GET", f"/reports/{w['done']}.zip", {}),
}
WRITES: dict[str, Callable[[dict[str, Any]], Request]] = {
    "create component": lambda w: ("POST", "/components", {"json": SWITCH | {"name": "S2"}}),
    "update component": lambda w: (
        "PUT",
        f"/components/{w['cid']}",
        {"json": {"capacity_mva": 63}},
    ),
    "delete component": lambda w: ("DELETE", f"/components/{w['victim']}", {}),
    "add measurement": lambda w: (
        "POST",
        "/measurements",
        {
            "json": {
                "component_id": w["cid"],
                "timestamp": "2024-05-02T00:00:00Z",
                "value": 1,
                "measurement_type": "current",
            }
        },
    ),
    "import measurements": lambda w: (
        "POST",
        "/measurements/import",
        {"content": MEASUREMENTS_CSV.format(cid=w["cid"]), "headers": {"Content-Type": "text/csv"}},
    ),
    "import components": lambda w: (
        "POST",
        "/components/import",
        {"content": COMPONENTS_CSV, "headers": {"Content-Type": "text/csv"}},
    ),
    "request report": lambda w: (
        "POST",
        "/reports",
        {"json": {"start_date": "2024-05-01", "end_date": "2024-05-02"}},
    ),
    "cancel report": lambda w: ("DELETE", f"/reports/{w['pending']}", {}),
    "delete measurement": lambda w: ("DELETE", f"/measurements/{w['mid']}", {}),
    "delete measurements": lambda w: (
        "DELETE",
        f"/components/{w['cid']}/measurements",
        {"params": {"measurement_type": "current", "start": T_START, "end": T_END}},
    ),
}


def _with_payload(token: str, change: Callable[[dict[str, Any]], None]) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{encoded}.{signature}"


def _credential(kind: str, client: Any, people: Database, world: dict[str, Any]) -> dict[str, str]:
    key = signing_key(COOKIE_KEY)
    with people.read() as session:
        mona = get_user(session=session, username="mona")
    if kind == "none":
        return {}
    if kind == "expired":
        an_hour_ago = utc_now() - timedelta(hours=1)
        old = issue_sign_in_token(
            mona, role=Role.MANAGER, key=key, minutes=30, now=lambda: an_hour_ago
        )
        return bearer(old.token)
    if kind == "tampered":
        good = issue_sign_in_token(mona, role=Role.USER, key=key, minutes=30).token
        return bearer(_with_payload(good, lambda claims: claims.update(scope="user manager")))
    if kind == "wrongly signed":
        other = issue_sign_in_token(mona, role=Role.MANAGER, key=signing_key("o" * 40), minutes=30)
        return bearer(other.token)
    if kind == "unsigned":
        claims = jwt.decode(
            issue_sign_in_token(mona, role=Role.MANAGER, key=key, minutes=30).token,
            options={"verify_signature": False},
        )
        return bearer(jwt.encode(claims, key=None, algorithm="none"))
    if kind == "garbage":
        return {"Authorization": "Bearer not.a.token"}
    if kind == "revoked token":
        return bearer(world["revoked"])
    if kind == "unknown machine token":
        return bearer("gbt_" + "x" * 43)
    if kind == "user":
        return bearer(sign_in(client, "ulf", USER_PASSWORD))
    if kind == "manager":
        return bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
    if kind == "manager as user":
        return bearer(sign_in(client, "mona", MANAGER_PASSWORD, "user"))
    if kind in ("read token", "write token"):
        return bearer(world[kind.split()[0]])
    raise AssertionError(kind)


def _call(client: Any, build: Callable[[dict[str, Any]], Request], world: dict[str, Any],
          headers: dict[str, str]) -> Any:  # fmt: skip
    method, path, options = build(world)
    merged = {**options.pop("headers", {}), **headers}
    return client.request(method, path, **options, headers=merged)


REFUSED = [
    "none", "expired", "tampered", "wrongly signed", "unsigned", "garbage", "revoked token",
    "unknown machine token",
]  # fmt: skip
READERS = ["user", "manager as user", "read token"]
WRITERS = ["manager", "write token"]


@pytest.mark.parametrize("kind", REFUSED)
def test_callers_without_a_valid_token_get_401_everywhere(kind, client, people, world):
    headers = _credential(kind, client, people, world)
    for name, build in {**READS, **WRITES}.items():
        answer = _call(client, build, world, headers)
        assert answer.status_code == 401, (name, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer", name
        assert answer.json()["detail"], name


@pytest.mark.parametrize("kind", READERS)
def test_readers_read_and_every_write_is_403(kind, client, people, world):
    headers = _credential(kind, client, people, world)
    for name, build in READS.items():
        answer = _call(client, build, world, headers)
        assert answer.status_code == 200, (name, answer.text)
    for name, build in WRITES.items():
        answer = _call(client, build, world, headers)
        assert answer.status_code == 403, (name, answer.text)
        assert answer.json()["detail"].endswith("only a manager may do that"), name
    with people.read() as session:  # nothing was written
        assert session.scalar(select(func.count()).select_from(Component)) == 2
        assert session.scalar(select(func.count()).select_from(Measurement)) == 1
        assert session.scalar(select(func.count()).select_from(Report)) == 2


@pytest.mark.parametrize("kind", WRITERS)
def test_managers_and_write_tokens_may_do_everything(kind, client, people, world):
    headers = _credential(kind, client, people, world)
    expected = {
        "create component": 201, "update component": 200, "delete component": 204,
        "add measurement": 201, "import measurements": 200, "import components": 200,
        "request report": 202, "cancel report": 200, "delete measurement": 204,
        "delete measurements": 200,
    }  # fmt: skip
    for name, build in READS.items():
        assert _call(client, build, world, headers).status_code == 200, name
    for name, build in WRITES.items():
        answer = _call(client, build, world, headers)
        assert answer.status_code == expected[name], (name, answer.text)
    if kind == "write token":
        created = client.get("/components", params={"name_search": "S2"}, headers=headers).json()
        assert created[0]["created_by"] == "token:write"


def test_a_token_that_is_not_honoured_says_why(client, people, world):
    def detail(kind: str) -> str:
        answer = client.get("/components", headers=_credential(kind, client, people, world))
        return str(answer.json()["detail"])

    assert detail("expired") == "the token has expired: sign in again"
    assert detail("tampered") == "the token is not valid: sign in again"
    assert detail("revoked token") == "the token 'old' is revoked"
    assert detail("none").startswith("not signed in")


def test_transformer_fixture_is_what_the_matrix_reads(world, client):
    token = bearer(world["read"])
    answer = client.get(f"/components/{world['cid']}", headers=token)
    assert answer.json()["name"] == TRANSFORMER["name"]
