"""A token ends with its account: deactivation (for good, a reactivation included), deletion,
a password reset and a role change refuse every token from before on the next request, on
every path a token is honoured; so do those that overlap the sign-in that made it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.orm import Session

import core.access.auth
from core.access.api_tokens import create_api_token, list_api_tokens
from core.access.users import (
    create_user,
    delete_user,
    set_active,
    set_password,
    set_role,
)
from core.domain import SYSTEM_ACTOR, Actor, Role
from core.models import utc_now
from tests.api.conftest import MANAGER_PASSWORD, World, bearer, sign_in
from tests.factories import TRANSFORMER

MONA = Actor(username="mona", role=Role.MANAGER)


@pytest.fixture
def second_manager(people):
    """``max``, so that ``mona`` is not the last manager and may be removed."""
    with people.write() as session:
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="max", password="second-desk-789",
            role=Role.MANAGER,
        )  # fmt: skip
    return people


def _calls(client: Any, world: World) -> dict[str, Callable[[dict[str, str]], Any]]:
    """One request on every path that honours a token: a read in one thread-pool call
    (``Caller.read``), one of its own (``Caller.actor_of``), a write route, the single
    post's fast path and a delete."""
    reading = {
        "component_id": world.component, "measurement_type": "voltage",
        "timestamp": "2024-05-02T00:00:00Z", "value": 111.0,
    }  # fmt: skip
    return {
        "GET /components": lambda headers: client.get("/components", headers=headers),
        "GET /auth/users/me": lambda headers: client.get("/auth/users/me", headers=headers),
        "POST /components": lambda headers: client.post(
            "/components", headers=headers, json={**TRANSFORMER, "name": "NEW"}
        ),
        "POST /measurements": lambda headers: client.post(
            "/measurements", headers=headers, json=reading
        ),
        "DELETE /components/{id}": lambda headers: client.delete(
            f"/components/{world.victim}", headers=headers
        ),
    }


def _change(kind: str, session: Session) -> None:
    if kind == "deactivated":
        set_active(session=session, actor=SYSTEM_ACTOR, username="mona", active=False)
    elif kind == "deactivated and reactivated":
        set_active(session=session, actor=SYSTEM_ACTOR, username="mona", active=False)
        set_active(session=session, actor=SYSTEM_ACTOR, username="mona", active=True)
    elif kind == "deleted":
        delete_user(session=session, actor=SYSTEM_ACTOR, username="mona")
    elif kind == "password reset":
        set_password(
            session=session, actor=SYSTEM_ACTOR, username="mona", password="brand-new-key-31"
        )
    elif kind == "demoted":
        set_role(session=session, actor=SYSTEM_ACTOR, username="mona", role="user")
    else:
        raise AssertionError(kind)


REASONS = {
    "deactivated": "the token's user is deactivated",
    "deactivated and reactivated": "the user was deactivated after this token was issued: "
    "sign in again",
    "deleted": "the token's user no longer exists",
    "password reset": "the password changed after this token was issued: sign in again",
    "demoted": "the role changed after this token was issued: sign in again",
}
CHANGES = list(REASONS)


@pytest.mark.parametrize("change", CHANGES)
def test_a_managers_sign_in_token_ends_with_the_change_on_every_path(
    change, client, second_manager, world
):
    headers = bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
    calls = _calls(client, world)
    assert calls["GET /components"](headers).status_code == 200
    with second_manager.write() as session:
        _change(change, session)
    for path, call in calls.items():
        answer = call(headers)
        assert (answer.status_code, answer.json()) == (
            401,
            {"detail": REASONS[change], "problems": []},
        ), path
    names = {row["name"] for row in calls["GET /components"](bearer(world.write_token)).json()}
    assert "NEW" not in names and len(names) == 2  # nothing was written or deleted


@pytest.mark.parametrize("change", CHANGES)
def test_a_machine_token_ends_with_the_manager_who_made_it(change, client, second_manager, world):
    with second_manager.write() as session:
        made = create_api_token(session=session, actor=MONA, name="scada", scope="write")
    headers = bearer(made.secret)
    calls = _calls(client, world)
    assert calls["GET /components"](headers).status_code == 200
    with second_manager.write() as session:
        _change(change, session)
    for path, call in calls.items():
        answer = call(headers)
        assert answer.status_code == 401, (path, answer.text)
        assert "the token 'scada' has ended" in answer.json()["detail"], (path, answer.text)
    with second_manager.read() as session:  # the Users page and `gridboard tokens` say so
        (listed,) = [t for t in list_api_tokens(session=session) if t.name == "scada"]
    assert listed.state(utc_now()) == "ended" and "who made it" in (listed.ended or "")


def test_a_machine_token_made_on_the_command_line_outlives_any_user(client, second_manager, world):
    with second_manager.write() as session:
        made = create_api_token(session=session, actor=SYSTEM_ACTOR, name="feed", scope="write")
        delete_user(session=session, actor=SYSTEM_ACTOR, username="mona")
    assert client.get("/components", headers=bearer(made.secret)).status_code == 200


def test_a_recreated_user_does_not_revive_the_old_ones_machine_token(client, second_manager, world):
    with second_manager.write() as session:
        made = create_api_token(session=session, actor=MONA, name="scada", scope="write")
        delete_user(session=session, actor=SYSTEM_ACTOR, username="mona")
    with second_manager.write() as session:
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="mona", password=MANAGER_PASSWORD,
            role=Role.MANAGER,
        )  # fmt: skip
    assert client.get("/components", headers=bearer(made.secret)).status_code == 401


OVERLAPPING = ["password reset", "demoted", "deactivated and reactivated"]


@pytest.mark.parametrize("change", OVERLAPPING)
def test_a_sign_in_that_overlaps_the_change_gets_a_token_that_does_not_survive_it(
    change, client, second_manager, world, monkeypatch
):
    """The change commits after the sign-in read the account and checked its password, and
    before the token is made: the worst interleaving of the two, every time."""
    authenticate = core.access.auth.authenticate

    def authenticate_then_change(**arguments: Any) -> Any:
        user = authenticate(**arguments)
        with second_manager.write() as session:
            _change(change, session)
        return user

    monkeypatch.setattr(core.access.auth, "authenticate", authenticate_then_change)
    headers = bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
    monkeypatch.undo()
    for path, call in _calls(client, world).items():
        answer = call(headers)
        assert (answer.status_code, answer.json()) == (
            401,
            {"detail": REASONS[change], "problems": []},
        ), path


def test_no_token_from_sign_ins_racing_a_reset_survives_it(client, second_manager):
    """Sign-ins from several threads, with the old password, while the reset commits: every
    token they got is refused afterwards, however the two interleaved."""
    reset = threading.Event()

    def keep_signing_in() -> list[str]:
        tokens = []
        while not reset.is_set():
            form = {"username": "mona", "password": MANAGER_PASSWORD, "scope": "manager"}
            answer = client.post("/auth/token", data=form)
            if answer.status_code == 200:
                tokens.append(answer.json()["access_token"])
        return tokens

    with ThreadPoolExecutor(4) as pool:
        racing = [pool.submit(keep_signing_in) for _ in range(4)]
        sign_in(client, "max", "second-desk-789")  # the racers are under way meanwhile
        with second_manager.write() as session:
            _change("password reset", session)
        reset.set()
        tokens = [token for future in racing for token in future.result()]
    assert tokens  # some signed in before the reset
    for token in tokens:
        assert client.get("/auth/users/me", headers=bearer(token)).status_code == 401
