"""The permission matrix: every endpoint against every kind of caller, on SQLite and
PostgreSQL. Tokens that are missing, expired, tampered with, signed with another key or
revoked get 401; a user and a read token read and get 403 for every write; a manager and a
write token may do everything."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from core.access.sign_in_tokens import issue_sign_in_token, signing_key
from core.access.users import get_user
from core.alarms.states import Event, transition
from core.db import Database
from core.domain import Role
from core.models import Alarm, Component, Measurement, Report, utc_now
from core.timestamps import to_micros
from tests.api.conftest import (
    COOKIE_KEY,
    MANAGER_PASSWORD,
    START,
    USER_PASSWORD,
    World,
    bearer,
    sign_in,
)
from tests.factories import SWITCH, TRANSFORMER

T_START, T_END = "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z"
MEASUREMENTS_CSV = "component_id,measurement_type,timestamp,value\n{cid},power,2024-05-03,7\n"
COMPONENTS_CSV = (
    "name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
    "S9,Hilltop,switch,,,,open\n"
)


Request = tuple[str, str, dict[str, Any]]
READS: dict[str, Callable[[World], Request]] = {
    "me": lambda w: ("GET", "/auth/users/me", {}),
    "list components": lambda w: ("GET", "/components", {}),
    "read component": lambda w: ("GET", f"/components/{w.component}", {}),
    "read measurements": lambda w: ("GET", f"/components/{w.component}/measurements", {}),
    "list reports": lambda w: ("GET", "/reports", {}),
    "read report": lambda w: ("GET", f"/reports/{w.done_report}", {}),
    "report table": lambda w: (
        "GET",
        f"/reports/{w.done_report}/tables/components_by_type.csv",
        {},
    ),
    "report zip": lambda w: ("GET", f"/reports/{w.done_report}.zip", {}),
    "substation diagram": lambda w: ("GET", "/substations/Riverside/diagram.svg", {}),
    "list alarms": lambda w: ("GET", "/alarms", {"params": {"state": "all"}}),
    "read alarm": lambda w: ("GET", f"/alarms/{w.alarm}", {}),
    "read component limits": lambda w: ("GET", f"/components/{w.component}/limits", {}),
    "read limits": lambda w: ("GET", "/limits", {}),
}
WRITES: dict[str, Callable[[World], Request]] = {
    "create component": lambda w: ("POST", "/components", {"json": SWITCH | {"name": "S2"}}),
    "update component": lambda w: (
        "PUT",
        f"/components/{w.component}",
        {"json": {"capacity_mva": 63}},
    ),
    "delete component": lambda w: ("DELETE", f"/components/{w.victim}", {}),
    "add measurement": lambda w: (
        "POST",
        "/measurements",
        {
            "json": {
                "component_id": w.component,
                "timestamp": "2024-05-02T00:00:00Z",
                "value": 1,
                "measurement_type": "current",
            }
        },
    ),
    "import measurements": lambda w: (
        "POST",
        "/measurements/import",
        {
            "content": MEASUREMENTS_CSV.format(cid=w.component),
            "headers": {"Content-Type": "text/csv"},
        },
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
    "cancel report": lambda w: ("DELETE", f"/reports/{w.pending_report}", {}),
    # acknowledged and shelved before the limits change (which may clear it)
    "acknowledge alarm": lambda w: (
        "POST",
        f"/alarms/{w.alarm}/acknowledge",
        {"json": {"comment": "seen"}},
    ),
    "shelve alarm": lambda w: (
        "POST",
        f"/alarms/{w.alarm}/shelve",
        {"json": {"until": (utc_now() + timedelta(hours=1)).isoformat(), "reason": "works"}},
    ),
    "set component limits": lambda w: (
        "PUT",
        f"/components/{w.component}/limits",
        {"json": {"limits": [{"measurement_type": "voltage", "high_alarm": 120}]}},
    ),
    "set limits": lambda w: ("PUT", "/limits", {"json": {"defaults": {"deadband_pct": 2}}}),
    "delete measurement": lambda w: ("DELETE", f"/measurements/{w.measurement}", {}),
    "delete measurements": lambda w: (
        "DELETE",
        f"/components/{w.component}/measurements",
        {"params": {"measurement_type": "current", "start": T_START, "end": T_END}},
    ),
}


@dataclass(frozen=True)
class AlarmWorld(World):
    """The conftest's world and an alarm on its transformer."""

    alarm: int


@pytest.fixture
def world(world: World, people: Database) -> AlarmWorld:
    """The conftest's world and an alarm on its transformer (stored as the engine stores one,
    without a measurement, so the counts the matrix checks stay as they are)."""
    with people.write() as session:
        alarm = Alarm(
            component_id=world.component, measurement_type="voltage", kind="high_alarm",
            severity="alarm", limit_value=121.0, worst_value=130.0,
            raised_at_us=to_micros(START), state=None,
        )  # fmt: skip
        transition(session, alarm, Event.RAISE, by="system:alarms")
        alarm_id = alarm.id
    return AlarmWorld(**asdict(world), alarm=alarm_id)


def _with_payload(token: str, change: Callable[[dict[str, Any]], None]) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{encoded}.{signature}"


def _credential(kind: str, client: Any, people: Database, world: World) -> dict[str, str]:
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
        return bearer(world.revoked_token)
    if kind == "unknown machine token":
        return bearer("gbt_" + "x" * 43)
    if kind == "user":
        return bearer(sign_in(client, "ulf", USER_PASSWORD))
    if kind == "manager":
        return bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
    if kind == "manager as user":
        return bearer(sign_in(client, "mona", MANAGER_PASSWORD, "user"))
    if kind in ("read token", "write token"):
        return bearer(world.token(kind.split()[0]))
    raise AssertionError(kind)


def _call(client: Any, build: Callable[[World], Request], world: World,
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
        "request report": 202, "cancel report": 200, "acknowledge alarm": 200,
        "shelve alarm": 200, "set component limits": 200, "set limits": 200,
        "delete measurement": 204,
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
    token = bearer(world.read_token)
    answer = client.get(f"/components/{world.component}", headers=token)
    assert answer.json()["name"] == TRANSFORMER["name"]


# Requests a manager or a write token sends wrong, each refused in its own way: FastAPI cannot
# read it (a path, a query, a body's field, broken JSON), a rule is broken, a file has a bad
# line, no such route, a method a route does not take, a body too large.
BAD: dict[str, Callable[[dict[str, Any]], Request]] = {
    "path not a number": lambda w: ("GET", "/components/first", {}),
    "query not a number": lambda w: ("GET", "/components", {"params": {"limit": "many"}}),
    "field not a number": lambda w: (
        "POST",
        "/measurements",
        {
            "json": {
                "component_id": w.component,
                "timestamp": "2024-05-02T00:00:00Z",
                "value": "high",
                "measurement_type": "current",
            }
        },
    ),
    "broken JSON": lambda w: (
        "POST",
        "/components",
        {"content": b"{", "headers": {"Content-Type": "application/json"}},
    ),
    "rule broken": lambda w: ("PUT", f"/components/{w.component}", {"json": {"capacity_mva": -5}}),
    "period backwards": lambda w: (
        "POST",
        "/reports",
        {"json": {"start_date": "2024-05-02", "end_date": "2024-05-01"}},
    ),
    "file with a bad line": lambda w: (
        "POST",
        "/measurements/import",
        {
            "content": MEASUREMENTS_CSV.format(cid=w.component).replace(",7", ",seven"),
            "headers": {"Content-Type": "text/csv"},
        },
    ),
    "no such route": lambda w: ("GET", "/nowhere", {}),
    "method not taken": lambda w: ("PATCH", "/components", {}),
    "body too large": lambda w: ("POST", "/components", {"json": {"name": "x" * 20_000}}),
}


def _one_shape(answer: Any, name: str) -> None:
    """Every refusal: a sentence in ``detail`` and a list of ``problems``, each a field or a
    line and column, with a reason."""
    assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text)
    body = answer.json()
    assert isinstance(body.get("detail"), str) and body["detail"], (name, body)
    assert isinstance(body.get("problems"), list), (name, body)
    for problem in body["problems"]:
        assert set(problem) in ({"field", "reason"}, {"line", "column", "reason"}), (name, body)
        assert all(isinstance(problem[key], str | int) for key in problem), (name, body)


@pytest.mark.parametrize("kind", REFUSED + READERS + WRITERS)
def test_every_refusal_has_one_shape(kind, client, people, world):
    headers = _credential(kind, client, people, world)
    refused = 0
    asks = {**READS, **WRITES, **BAD} if kind in WRITERS else {**READS, **WRITES}
    for name, build in asks.items():
        answer = _call(client, build, world, headers)
        if answer.status_code >= 400:
            _one_shape(answer, name)
            refused += 1
    assert refused >= len(WRITES if kind in READERS else BAD), kind


def test_a_refusal_counts_its_problems_in_words(client, people, world):
    headers = _credential("manager", client, people, world)
    imported = _call(client, BAD["file with a bad line"], world, headers)
    assert imported.json()["detail"] == "import refused, nothing was written: 1 problem"
    unread = _call(client, BAD["field not a number"], world, headers).json()
    assert unread["detail"] == (
        "the request has 1 problem: body.value: Input should be a valid number, "
        "unable to parse string as a number"
    )
    assert unread["problems"] == [
        {
            "field": "body.value",
            "reason": "Input should be a valid number, unable to parse string as a number",
        }
    ]
    nowhere = _call(client, BAD["no such route"], world, headers).json()
    assert nowhere["detail"] == "/nowhere is not a route of this API: see /docs for the routes"
